/// One attack's result in a trial's `attacks` list: the setting it ran with and what it measured
/// on the attacked subset.
public struct AttackMetrics: Codable, Equatable, Sendable {
    /// `pgd`, `fgsm`, `autoattack`, ... and `<name>-transfer` for an attack crafted on the parent.
    public var attack: String
    public var norm: String
    public var eps: Double
    /// The eps as the sweep wrote it (`8/255`): the key masks and reports use.
    public var epsLabel: String
    public var steps: Int
    public var robustAccuracy: Double
    public var successRate: Double?
    public var meanTrueConfidenceClean: Double?
    public var meanTrueConfidenceAdv: Double?
    /// An ensemble's components (AutoAttack), in the order they ran.
    public var components: [Component]?

    public struct Component: Codable, Equatable, Sendable {
        public var attack: String
        public var steps: Int
        public var robustAccuracy: Double

        public init(attack: String, steps: Int, robustAccuracy: Double) {
            (self.attack, self.steps, self.robustAccuracy) = (attack, steps, robustAccuracy)
        }

        enum CodingKeys: String, CodingKey {
            case attack, steps
            case robustAccuracy = "robust_accuracy"
        }
    }

    public init(attack: String, norm: String, eps: Double, epsLabel: String, steps: Int, robustAccuracy: Double,
                successRate: Double? = nil, meanTrueConfidenceClean: Double? = nil, meanTrueConfidenceAdv: Double? = nil,
                components: [Component]? = nil) {
        (self.attack, self.norm, self.eps, self.epsLabel, self.steps) = (attack, norm, eps, epsLabel, steps)
        (self.robustAccuracy, self.successRate, self.components) = (robustAccuracy, successRate, components)
        (self.meanTrueConfidenceClean, self.meanTrueConfidenceAdv) = (meanTrueConfidenceClean, meanTrueConfidenceAdv)
    }

    enum CodingKeys: String, CodingKey {
        case attack, norm, eps, steps, components
        case epsLabel = "eps_label"
        case robustAccuracy = "robust_accuracy"
        case successRate = "success_rate"
        case meanTrueConfidenceClean = "mean_true_confidence_clean"
        case meanTrueConfidenceAdv = "mean_true_confidence_adv"
    }
}
