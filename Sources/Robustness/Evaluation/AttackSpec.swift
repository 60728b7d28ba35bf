/// The attacks `rt attack` and the evaluator know by name.
public enum AttackKind: String, Codable, Sendable, CaseIterable {
    case fgsm, pgd, mifgsm, cw, uap

    /// Norms each attack implements: sign-based attacks and the universal perturbation are L∞ only.
    public var supportedNorms: [AttackNorm] {
        switch self {
        case .pgd, .cw: return [.linf, .l2]
        case .fgsm, .mifgsm, .uap: return [.linf]
        }
    }
}

/// One (attack, eps) of an evaluation.
public struct AttackSpec: Sendable, Equatable {
    public var kind: AttackKind
    public var norm: AttackNorm
    public var eps: Float
    /// Iterations (PGD, MI-FGSM, CW) or passes over the data (UAP); FGSM always takes 1.
    public var steps: Int
    /// nil: 2.5·eps/steps (PGD, CW), eps/steps (MI-FGSM), eps/4 (UAP).
    public var stepSize: Float?
    public var restarts: Int
    public var randomStart: Bool
    public var seed: UInt64

    public init(kind: AttackKind, norm: AttackNorm = .linf, eps: Float, steps: Int = 10, stepSize: Float? = nil,
                restarts: Int = 1, randomStart: Bool = true, seed: UInt64 = 0) {
        (self.kind, self.norm, self.eps, self.steps, self.stepSize) = (kind, norm, eps, steps, stepSize)
        (self.restarts, self.randomStart, self.seed) = (restarts, randomStart, seed)
    }

    /// The steps this attack really takes (reported in results).
    public var effectiveSteps: Int { kind == .fgsm ? 1 : steps }

    public func validate() throws {
        guard kind.supportedNorms.contains(norm) else {
            throw RobustnessError.unsupportedNorm(attack: kind.rawValue, norm: norm.rawValue, supported: kind.supportedNorms.map(\.rawValue))
        }
        try settings(batchSeed: 0).validate()
    }

    /// The projected-gradient settings of this attack for one batch (UAP uses eps, steps and step size only).
    public func settings(batchSeed: UInt64) -> PGDSettings {
        let seed = self.seed &+ batchSeed &* 0x9E37_79B9_7F4A_7C15
        switch kind {
        case .fgsm:
            var s = PGDSettings.fgsm(eps: eps)
            s.seed = seed
            return s
        case .mifgsm:
            var s = PGDSettings.miFGSM(eps: eps, steps: steps)
            if let stepSize { s.stepSize = stepSize }
            s.seed = seed
            return s
        case .pgd, .cw, .uap:
            return PGDSettings(norm: norm, eps: eps, steps: steps, stepSize: stepSize, start: randomStart ? .uniform : .none,
                               restarts: restarts, seed: seed)
        }
    }

    /// The loss this attack maximises on the crafting model's logits.
    func loss(labels: [Int]) -> AttackLoss {
        kind == .cw ? .margin(labels: labels) : .crossEntropy(labels: labels)
    }
}
