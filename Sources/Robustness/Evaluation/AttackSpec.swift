/// The attacks `rt attack` and the evaluator know by name.
public enum AttackKind: String, Codable, Sendable, CaseIterable {
    case fgsm, pgd, mifgsm, cw, uap
    case diMIFGSM = "di-mifgsm"
    case apgdCE = "apgd-ce", apgdT = "apgd-t", apgdDLR = "apgd-dlr", square, autoattack
    case autoattackRand = "autoattack-rand"

    /// Norms each attack implements: sign-based attacks and the universal perturbation are L∞ only.
    public var supportedNorms: [AttackNorm] {
        switch self {
        case .pgd, .cw, .apgdCE, .apgdT, .apgdDLR, .square, .autoattack, .autoattackRand: return [.linf, .l2]
        case .fgsm, .mifgsm, .diMIFGSM, .uap: return [.linf]
        }
    }

    /// AutoAttack's two ensembles, and their versions.
    public var autoAttackVersion: AutoAttackVersion? {
        switch self {
        case .autoattack: return .standard
        case .autoattackRand: return .rand
        default: return nil
        }
    }

    /// The attacks that take `eotIterations`: APGD alone, and the rand version of AutoAttack.
    public var averagesGradients: Bool { [.apgdCE, .apgdT, .apgdDLR, .autoattackRand].contains(self) }

    /// AutoAttack's attacks choose their own step sizes and starts and attack the evaluated model
    /// itself; the others are settings of `ProjectedGradientAttack` (or a UAP) and can be crafted on another model.
    public var isParameterFree: Bool {
        switch self {
        case .apgdCE, .apgdT, .apgdDLR, .square, .autoattack, .autoattackRand: return true
        case .fgsm, .pgd, .mifgsm, .diMIFGSM, .cw, .uap: return false
        }
    }
}

/// One (attack, eps) of an evaluation.
public struct AttackSpec: Sendable, Equatable {
    public var kind: AttackKind
    public var norm: AttackNorm
    public var eps: Float
    /// Iterations (PGD, MI-FGSM, CW, APGD, AutoAttack's APGD), passes over the data (UAP), or the
    /// query budget (Square, unless `queries` is given); FGSM always takes 1.
    public var steps: Int
    /// nil: 2.5·eps/steps (PGD, CW), eps/steps (MI-FGSM, DI-MI-FGSM), eps/4 (UAP). AutoAttack's attacks take none.
    public var stepSize: Float?
    public var restarts: Int
    public var randomStart: Bool
    public var seed: UInt64
    /// Square's query budget, per example and run: nil means `steps` for `square` and
    /// `queriesPerStep`·steps for `autoattack` (AutoAttack's 5,000 queries for 100 iterations).
    public var queries: Int?
    /// Expectation over transformation: input gradients averaged per APGD iteration; nil means
    /// AutoAttack's 20 for `autoattack-rand` and 1 for `apgd-ce`, `apgd-t` and `apgd-dlr`.
    public var eotIterations: Int?
    /// `di-mifgsm`'s input diversity: nil means the defaults (p 0.5, resize rate 0.9). Other attacks take none.
    public var diversity: InputDiversity?

    /// AutoAttack's ratio of Square queries to APGD iterations (5,000 / 100).
    public static let queriesPerStep = 50
    /// APGD-T's number of target classes (AutoAttack's 9, capped at classes − 1 per model).
    public static let targetClasses = 9

    public init(kind: AttackKind, norm: AttackNorm = .linf, eps: Float, steps: Int = 10, stepSize: Float? = nil,
                restarts: Int = 1, randomStart: Bool = true, seed: UInt64 = 0, queries: Int? = nil, eotIterations: Int? = nil,
                diversity: InputDiversity? = nil) {
        (self.kind, self.norm, self.eps, self.steps, self.stepSize) = (kind, norm, eps, steps, stepSize)
        (self.restarts, self.randomStart, self.seed, self.queries) = (restarts, randomStart, seed, queries)
        (self.eotIterations, self.diversity) = (eotIterations, diversity)
    }

    /// The passes each APGD iteration of this attack averages (1: no expectation over transformation).
    public var resolvedEOTIterations: Int {
        eotIterations ?? (kind == .autoattackRand ? AutoAttackSettings.randEOTIterations : 1)
    }

    /// The steps this attack really takes (reported in results): Square's is its query budget.
    public var effectiveSteps: Int {
        switch kind {
        case .fgsm: return 1
        case .square: return squareQueries
        default: return steps
        }
    }

    /// The query budget of Square, alone or as AutoAttack's last component.
    public var squareQueries: Int { queries ?? (kind == .autoattack ? Self.queriesPerStep * steps : steps) }

    public func validate() throws {
        guard kind.supportedNorms.contains(norm) else {
            throw RobustnessError.unsupportedNorm(attack: kind.rawValue, norm: norm.rawValue, supported: kind.supportedNorms.map(\.rawValue))
        }
        if let queries, kind != .square && kind != .autoattack {
            throw RobustnessError.invalidSetting(name: "queries", reason: "only square and autoattack take a query budget (\(kind.rawValue) was given \(queries))")
        }
        if let eotIterations, !kind.averagesGradients {
            throw RobustnessError.invalidSetting(name: "eot-iterations", reason: "only apgd-ce, apgd-t, apgd-dlr and autoattack-rand average gradients over passes (\(kind.rawValue) was given \(eotIterations)); for a randomised model use autoattack-rand")
        }
        if let diversity, kind != .diMIFGSM {
            throw RobustnessError.invalidSetting(name: "diversity-prob", reason: "only di-mifgsm takes input diversity (\(kind.rawValue) was given p \(diversity.probability), resize rate \(diversity.resizeRate))")
        }
        guard kind.isParameterFree else { return try settings(batchSeed: 0).validate() }
        if stepSize != nil {
            throw RobustnessError.invalidSetting(name: "step-size", reason: "\(kind.rawValue) chooses its own step size (APGD halves it as it goes; Square has none)")
        }
        if !randomStart {
            throw RobustnessError.invalidSetting(name: "random-start", reason: "\(kind.rawValue) always starts from AutoAttack's random point")
        }
        switch kind {
        case .apgdCE, .apgdT, .apgdDLR: try autoPGDSettings(batchSeed: 0).validate()
        case .square:
            if queries == nil && steps < 1 {
                throw RobustnessError.invalidSetting(name: "steps", reason: "square's query budget must be at least 1, got \(steps)")
            }
            try squareSettings(batchSeed: 0).validate()
        default: try autoAttackSettings(batchSeed: 0).validate()
        }
    }

    /// The seed of one batch: every batch draws other random starts.
    func seed(batch: UInt64) -> UInt64 { seed &+ batch &* 0x9E37_79B9_7F4A_7C15 }

    /// The projected-gradient settings of this attack for one batch (UAP uses eps, steps and step size only).
    public func settings(batchSeed: UInt64) -> PGDSettings {
        let seed = self.seed(batch: batchSeed)
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
        case .diMIFGSM:
            var s = PGDSettings.diMIFGSM(eps: eps, steps: steps, diversity: diversity ?? InputDiversity())
            if let stepSize { s.stepSize = stepSize }
            s.seed = seed
            return s
        case .pgd, .cw, .uap, .apgdCE, .apgdT, .apgdDLR, .square, .autoattack, .autoattackRand:
            return PGDSettings(norm: norm, eps: eps, steps: steps, stepSize: stepSize, start: randomStart ? .uniform : .none,
                               restarts: restarts, seed: seed)
        }
    }

    /// APGD-CE, APGD-T or APGD-DLR for one batch.
    public func autoPGDSettings(batchSeed: UInt64) -> AutoPGDSettings {
        let objective: AutoPGDObjective
        switch kind {
        case .apgdT: objective = .targetedDLR(targetClasses: Self.targetClasses)
        case .apgdDLR: objective = .dlr
        default: objective = .crossEntropy
        }
        return AutoPGDSettings(norm: norm, eps: eps, steps: steps, restarts: restarts, objective: objective,
                               eotIterations: resolvedEOTIterations, seed: seed(batch: batchSeed))
    }

    public func squareSettings(batchSeed: UInt64) -> SquareSettings {
        SquareSettings(norm: norm, eps: eps, queries: squareQueries, restarts: restarts, seed: seed(batch: batchSeed))
    }

    /// The same seed as the standalone attacks of this batch: each component attacks an example
    /// exactly as `apgd-ce`, `apgd-t` or `square` alone would.
    public func autoAttackSettings(batchSeed: UInt64) -> AutoAttackSettings {
        AutoAttackSettings(norm: norm, eps: eps, steps: steps, queries: squareQueries, restarts: restarts,
                           targetClasses: Self.targetClasses, version: kind.autoAttackVersion ?? .standard,
                           eotIterations: resolvedEOTIterations, seed: seed(batch: batchSeed))
    }

    /// The loss this attack maximises on the crafting model's logits.
    func loss(labels: [Int]) -> AttackLoss {
        kind == .cw ? .margin(labels: labels) : .crossEntropy(labels: labels)
    }
}
