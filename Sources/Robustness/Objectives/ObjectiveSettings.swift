import NeuralNetworks

/// The training loss of a run, as `rt train --objective` and sweep files give it.
public struct ObjectiveSettings: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case crossEntropy = "ce", pgdAT = "pgd-at", trades, dm
    }

    public var kind: Kind
    /// TRADES' and DM's weight of the robust term (defaults 6 and 500).
    public var beta: Float?
    /// Inner attack budget, L∞ (defaults 8/255 for pgd-at and trades, 0.5/255 for dm).
    public var eps: Float?
    /// Inner attack steps (default 10).
    public var steps: Int?
    /// Inner step size (defaults 2.5·eps/steps; dm 1.25·eps/steps).
    public var stepSize: Float?

    public init(kind: Kind = .crossEntropy, beta: Float? = nil, eps: Float? = nil, steps: Int? = nil, stepSize: Float? = nil) {
        (self.kind, self.beta, self.eps, self.steps, self.stepSize) = (kind, beta, eps, steps, stepSize)
    }

    public var resolvedBeta: Float { beta ?? (kind == .dm ? 500 : 6) }
    public var resolvedEps: Float { eps ?? (kind == .dm ? 0.5 / 255 : 8 / 255) }
    public var resolvedSteps: Int { steps ?? 10 }

    public func validate() throws {
        if kind == .crossEntropy {
            if beta != nil || eps != nil || steps != nil || stepSize != nil {
                throw RobustnessError.invalidSetting(name: "objective", reason: "--beta, --eps, --steps and --step-size need a robust --objective (pgd-at, trades, dm)")
            }
            return
        }
        if kind == .pgdAT && beta != nil {
            throw RobustnessError.invalidSetting(name: "beta", reason: "pgd-at has no beta (trades and dm do)")
        }
        let b = resolvedBeta
        guard b.isFinite, b >= 0 else { throw RobustnessError.invalidSetting(name: "beta", reason: "must be a finite value >= 0, got \(b)") }
        try PGDSettings(eps: resolvedEps, steps: resolvedSteps, stepSize: stepSize).validate()
    }

    /// The objective for a run seeded with `seed` (its inner attacks' random starts follow from it).
    public func makeObjective(seed: UInt64) -> TrainingObjective {
        switch kind {
        case .crossEntropy: return CrossEntropyObjective()
        case .pgdAT: return AdversarialTrainingObjective(eps: resolvedEps, steps: resolvedSteps, stepSize: stepSize, seed: seed)
        case .trades: return TRADESObjective(beta: resolvedBeta, eps: resolvedEps, steps: resolvedSteps, stepSize: stepSize, seed: seed)
        case .dm: return DiscrepancyMitigatingObjective(beta: resolvedBeta, eps: resolvedEps, steps: resolvedSteps, stepSize: stepSize, seed: seed)
        }
    }
}
