/// The norm of an attack's budget.
public enum AttackNorm: String, Codable, Sendable, CaseIterable {
    case linf, l2
}

/// Where the iterates start.
public enum RandomStart: Sendable, Equatable {
    /// At the clean input.
    case none
    /// L∞: x + U(−eps, eps) per pixel (Madry et al.). L2: a random direction at a uniform radius in [0, eps].
    case uniform
    /// x + std·N(0, 1) per pixel (TRADES and DM use std 0.001).
    case gaussian(std: Float)
}

/// One projected-gradient attack: FGSM, PGD, MI-FGSM and CW-PGD are settings of this.
public struct PGDSettings: Sendable, Equatable {
    public var norm: AttackNorm
    public var eps: Float
    public var steps: Int
    /// Step size; nil means 2.5·eps/steps (Madry et al.).
    public var stepSize: Float?
    public var start: RandomStart
    /// Independent runs (different random starts); each example keeps its worst case.
    public var restarts: Int
    /// MI-FGSM's decay μ: steps follow g ← μ·g + ∇/‖∇‖₁ instead of ∇. nil: plain gradient.
    public var momentum: Float?
    /// Seeds the random starts (callers vary it per batch).
    public var seed: UInt64

    public init(norm: AttackNorm = .linf, eps: Float, steps: Int = 10, stepSize: Float? = nil, start: RandomStart = .uniform,
                restarts: Int = 1, momentum: Float? = nil, seed: UInt64 = 0) {
        (self.norm, self.eps, self.steps, self.stepSize, self.start) = (norm, eps, steps, stepSize, start)
        (self.restarts, self.momentum, self.seed) = (restarts, momentum, seed)
    }

    /// FGSM: one step of size eps from the clean input (L∞).
    public static func fgsm(eps: Float) -> PGDSettings {
        PGDSettings(norm: .linf, eps: eps, steps: 1, stepSize: eps, start: .none)
    }

    /// MI-FGSM (Dong et al. 2018): `steps` momentum steps of eps/steps, decay 1, from the clean input.
    public static func miFGSM(eps: Float, steps: Int = 10, decay: Float = 1) -> PGDSettings {
        PGDSettings(norm: .linf, eps: eps, steps: steps, stepSize: eps / Float(max(steps, 1)), start: .none, momentum: decay)
    }

    public var resolvedStepSize: Float { stepSize ?? 2.5 * eps / Float(max(steps, 1)) }

    public func validate() throws {
        guard eps.isFinite, eps >= 0 else { throw RobustnessError.invalidSetting(name: "eps", reason: "must be a finite value >= 0, got \(eps)") }
        guard steps >= 1 else { throw RobustnessError.invalidSetting(name: "steps", reason: "must be at least 1, got \(steps)") }
        guard restarts >= 1 else { throw RobustnessError.invalidSetting(name: "restarts", reason: "must be at least 1, got \(restarts)") }
        if let s = stepSize, !(s.isFinite && s >= 0) {
            throw RobustnessError.invalidSetting(name: "step-size", reason: "must be a finite value >= 0, got \(s)")
        }
        if let m = momentum, !(m.isFinite && m >= 0) {
            throw RobustnessError.invalidSetting(name: "momentum", reason: "must be a finite value >= 0, got \(m)")
        }
        if case let .gaussian(std) = start, !(std.isFinite && std >= 0) {
            throw RobustnessError.invalidSetting(name: "random start", reason: "standard deviation must be >= 0, got \(std)")
        }
    }
}
