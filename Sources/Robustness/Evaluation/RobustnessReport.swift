/// The measurements of one (attack, eps) on one model and dataset.
public struct AttackResult: Sendable, Codable, Equatable {
    public var attack: String
    public var norm: String
    public var eps: Float
    public var steps: Int
    public var robustAccuracy: Double
    /// Among the examples the model classifies correctly on clean inputs, the fraction the attack breaks.
    public var successRate: Double
    public var meanTrueConfidenceClean: Double
    public var meanTrueConfidenceAdversarial: Double
    /// Whether each example (in dataset order) is still classified correctly under the attack.
    public var correct: [Bool]
    /// Fraction of examples whose first input gradient was exactly zero (gradient masking).
    public var zeroGradientFraction: Double
    /// Wall seconds spent crafting and evaluating this attack, for throughput.
    public var seconds: Double
    /// Process CPU seconds over the same span: throughput that a busy, shared machine does not distort.
    public var cpuSeconds: Double
    /// AutoAttack only: its attacks in the order they ran, each with the robust accuracy after it.
    public var components: [AttackComponentResult]? = nil
    /// Passes each APGD iteration averaged (expectation over transformation); nil for one.
    public var eotIterations: Int? = nil

    enum CodingKeys: String, CodingKey {
        case attack, norm, eps, steps, correct, seconds, components
        case eotIterations = "eot_iterations"
        case robustAccuracy = "robust_accuracy", successRate = "success_rate"
        case meanTrueConfidenceClean = "mean_true_confidence_clean"
        case meanTrueConfidenceAdversarial = "mean_true_confidence_adv"
        case zeroGradientFraction = "zero_gradient_fraction"
        case cpuSeconds = "cpu_seconds"
    }
}

/// One attack of AutoAttack's sequence.
public struct AttackComponentResult: Sendable, Codable, Equatable {
    public var attack: String
    /// APGD's iterations, or Square's query budget.
    public var steps: Int
    /// Robust accuracy after this attack and every one before it, on the examples the earlier ones
    /// left correct (the running figure AutoAttack prints); the last one is AutoAttack's.
    public var robustAccuracy: Double
    public var correct: [Bool]
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case attack, steps, correct, seconds
        case robustAccuracy = "robust_accuracy"
    }
}

/// A model's robustness on a dataset under a list of attacks.
public struct RobustnessReport: Sendable, Codable, Equatable {
    public var cleanAccuracy: Double
    public var examples: Int
    public var cleanCorrect: [Bool]
    public var results: [AttackResult]
    /// Per example: correct on the clean input and under every attack.
    public var worstCaseCorrect: [Bool]
    public var worstCaseAccuracy: Double
    /// Sanity checks that failed (see `RobustnessWarnings`).
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case examples, results, warnings
        case cleanAccuracy = "clean_accuracy", cleanCorrect = "clean_correct"
        case worstCaseCorrect = "worst_case_correct", worstCaseAccuracy = "worst_case_accuracy"
    }

    /// Robust accuracy against eps for one attack and norm, sorted by eps: the eps-sweep curve.
    public func curve(attack: AttackKind, norm: AttackNorm) -> [(eps: Float, robustAccuracy: Double)] {
        results.filter { $0.attack == attack.rawValue && $0.norm == norm.rawValue }
            .map { ($0.eps, $0.robustAccuracy) }
            .sorted { $0.eps < $1.eps }
    }
}
