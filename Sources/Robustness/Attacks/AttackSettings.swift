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
    /// Input diversity (DI-MI-FGSM): each step's gradient is taken at a randomly resized and padded
    /// batch with this probability. nil: at the batch itself.
    public var diversity: InputDiversity?
    /// Seeds the random starts and input diversity's draws (callers vary it per batch).
    public var seed: UInt64

    public init(norm: AttackNorm = .linf, eps: Float, steps: Int = 10, stepSize: Float? = nil, start: RandomStart = .uniform,
                restarts: Int = 1, momentum: Float? = nil, diversity: InputDiversity? = nil, seed: UInt64 = 0) {
        (self.norm, self.eps, self.steps, self.stepSize, self.start) = (norm, eps, steps, stepSize, start)
        (self.restarts, self.momentum, self.diversity, self.seed) = (restarts, momentum, diversity, seed)
    }

    /// FGSM: one step of size eps from the clean input (L∞).
    public static func fgsm(eps: Float) -> PGDSettings {
        PGDSettings(norm: .linf, eps: eps, steps: 1, stepSize: eps, start: .none)
    }

    /// MI-FGSM (Dong et al. 2018): `steps` momentum steps of eps/steps, decay 1, from the clean input.
    public static func miFGSM(eps: Float, steps: Int = 10, decay: Float = 1) -> PGDSettings {
        PGDSettings(norm: .linf, eps: eps, steps: steps, stepSize: eps / Float(max(steps, 1)), start: .none, momentum: decay)
    }

    /// DI-MI-FGSM (Xie et al. 2019): MI-FGSM whose gradients are taken at diverse inputs.
    public static func diMIFGSM(eps: Float, steps: Int = 10, decay: Float = 1, diversity: InputDiversity = InputDiversity()) -> PGDSettings {
        var s = miFGSM(eps: eps, steps: steps, decay: decay)
        s.diversity = diversity
        return s
    }

    public var resolvedStepSize: Float { stepSize ?? 2.5 * eps / Float(max(steps, 1)) }

    public func validate() throws {
        try RobustnessError.requireBudget(eps)
        try RobustnessError.requirePositive(steps, name: "steps")
        try RobustnessError.requirePositive(restarts, name: "restarts")
        if let s = stepSize, !(s.isFinite && s >= 0) {
            throw RobustnessError.invalidSetting(name: "step-size", reason: "must be a finite value >= 0, got \(s)")
        }
        if let m = momentum, !(m.isFinite && m >= 0) {
            throw RobustnessError.invalidSetting(name: "momentum", reason: "must be a finite value >= 0, got \(m)")
        }
        if case let .gaussian(std) = start, !(std.isFinite && std >= 0) {
            throw RobustnessError.invalidSetting(name: "random start", reason: "standard deviation must be >= 0, got \(std)")
        }
        try diversity?.validate()
    }
}

/// What APGD maximises.
public enum AutoPGDObjective: Sendable, Equatable {
    /// Cross-entropy on the true label (APGD-CE).
    case crossEntropy
    /// The targeted DLR loss towards each of the `targetClasses` highest-scoring other classes in
    /// turn (APGD-T; AutoAttack uses 9, capped at classes − 1).
    case targetedDLR(targetClasses: Int)
    /// The untargeted DLR loss (APGD-DLR, a component of AutoAttack's `rand` version).
    case dlr
}

/// APGD (Croce & Hein 2020): the step size starts at 2·eps and is halved, per example, at
/// checkpoints where the loss stopped rising; the iterates follow a momentum of 0.75.
public struct AutoPGDSettings: Sendable, Equatable {
    public var norm: AttackNorm
    public var eps: Float
    /// Iterations per run (AutoAttack: 100); each takes one forward and one backward pass.
    public var steps: Int
    /// Runs from new random starts on the examples still correct (per target class for APGD-T).
    public var restarts: Int
    public var objective: AutoPGDObjective
    /// Expectation over transformation: each iteration averages the input gradient of this many
    /// forward and backward passes (AutoAttack's `rand` version: 20; 1 for a deterministic model).
    public var eotIterations: Int
    public var seed: UInt64

    /// Weight of the new step against the previous move (the paper's α).
    public static let momentum: Float = 0.75
    /// A checkpoint halves the step unless the loss rose in more than this share of the steps since the last one (ρ).
    public static let risingShare: Float = 0.75

    public init(norm: AttackNorm = .linf, eps: Float, steps: Int = 100, restarts: Int = 1,
                objective: AutoPGDObjective = .crossEntropy, eotIterations: Int = 1, seed: UInt64 = 0) {
        (self.norm, self.eps, self.steps, self.restarts, self.objective, self.seed) = (norm, eps, steps, restarts, objective, seed)
        self.eotIterations = eotIterations
    }

    public func validate() throws {
        try RobustnessError.requireBudget(eps)
        try RobustnessError.requirePositive(steps, name: "steps")
        try RobustnessError.requirePositive(restarts, name: "restarts")
        try RobustnessError.requirePositive(eotIterations, name: "eot-iterations")
        if case let .targetedDLR(k) = objective { try RobustnessError.requirePositive(k, name: "target classes") }
    }
}

/// The Square attack (Andriushchenko et al. 2020): random square updates accepted when they lower
/// the logit margin. It needs only the model's scores, so masked gradients do not stop it.
public struct SquareSettings: Sendable, Equatable {
    public var norm: AttackNorm
    public var eps: Float
    /// Model evaluations per example and run, the initial one included (AutoAttack: 5,000).
    public var queries: Int
    public var restarts: Int
    /// Initial fraction of the image a square covers; it shrinks on the paper's schedule.
    public var initialFraction: Float
    public var seed: UInt64

    public init(norm: AttackNorm = .linf, eps: Float, queries: Int = 5000, restarts: Int = 1,
                initialFraction: Float = 0.8, seed: UInt64 = 0) {
        (self.norm, self.eps, self.queries, self.restarts) = (norm, eps, queries, restarts)
        (self.initialFraction, self.seed) = (initialFraction, seed)
    }

    public func validate() throws {
        try RobustnessError.requireBudget(eps)
        try RobustnessError.requirePositive(queries, name: "queries", what: "the query budget ")
        try RobustnessError.requirePositive(restarts, name: "restarts")
        guard initialFraction > 0, initialFraction <= 1 else {
            throw RobustnessError.invalidSetting(name: "initial fraction", reason: "must be in (0, 1], got \(initialFraction)")
        }
    }
}

/// AutoAttack's ensemble: APGD-CE, then APGD-T, then Square (standard version), or APGD-CE then
/// APGD-DLR with expectation over transformation (rand version), each on the examples the ones
/// before it did not break.
public struct AutoAttackSettings: Sendable, Equatable {
    public var norm: AttackNorm
    public var eps: Float
    /// APGD iterations (standard: 100).
    public var steps: Int
    /// Square's query budget (standard: 5,000; the rand version has no Square).
    public var queries: Int
    public var restarts: Int
    public var targetClasses: Int
    public var version: AutoAttackVersion
    /// Passes whose input gradients each APGD iteration averages (rand: AutoAttack's 20; standard: 1).
    public var eotIterations: Int
    public var seed: UInt64

    /// AutoAttack's `eot_iter` in its rand version.
    public static let randEOTIterations = 20

    public init(norm: AttackNorm = .linf, eps: Float, steps: Int = 100, queries: Int = 5000, restarts: Int = 1,
                targetClasses: Int = 9, version: AutoAttackVersion = .standard, eotIterations: Int? = nil, seed: UInt64 = 0) {
        (self.norm, self.eps, self.steps, self.queries) = (norm, eps, steps, queries)
        (self.restarts, self.targetClasses, self.version, self.seed) = (restarts, targetClasses, version, seed)
        self.eotIterations = eotIterations ?? (version == .rand ? Self.randEOTIterations : 1)
    }

    public var crossEntropy: AutoPGDSettings {
        AutoPGDSettings(norm: norm, eps: eps, steps: steps, restarts: restarts, objective: .crossEntropy, eotIterations: eotIterations, seed: seed)
    }
    public var targeted: AutoPGDSettings {
        AutoPGDSettings(norm: norm, eps: eps, steps: steps, restarts: restarts, objective: .targetedDLR(targetClasses: targetClasses),
                        eotIterations: eotIterations, seed: seed)
    }
    public var dlr: AutoPGDSettings {
        AutoPGDSettings(norm: norm, eps: eps, steps: steps, restarts: restarts, objective: .dlr, eotIterations: eotIterations, seed: seed)
    }
    public var square: SquareSettings { SquareSettings(norm: norm, eps: eps, queries: queries, restarts: restarts, seed: seed) }

    public func validate() throws {
        try crossEntropy.validate()
        switch version {
        case .standard:
            try targeted.validate()
            try square.validate()
        case .rand:
            try dlr.validate()
        }
    }
}
