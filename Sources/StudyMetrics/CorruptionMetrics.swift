/// A trial's `corruptions` metrics: accuracy under each (kind, severity) of the common
/// corruptions on the attacked subset (docs/ROBUSTNESS.md).
public struct CorruptionMetrics: Codable, Equatable, Sendable {
    /// Clean accuracy on the examples that were corrupted (the attacked subset).
    public var cleanAccuracy: Double
    public var examples: Int?
    /// Mean over every (kind, severity) result.
    public var meanAccuracy: Double?
    public var results: [Result]
    /// Time spent corrupting and classifying, summed over the results.
    public var seconds: Double?

    public struct Result: Codable, Equatable, Sendable {
        public var kind: String
        public var severity: Int
        public var accuracy: Double
        public var successRate: Double?
        public var meanTrueConfidence: Double?

        public init(kind: String, severity: Int, accuracy: Double, successRate: Double? = nil, meanTrueConfidence: Double? = nil) {
            (self.kind, self.severity, self.accuracy) = (kind, severity, accuracy)
            (self.successRate, self.meanTrueConfidence) = (successRate, meanTrueConfidence)
        }

        enum CodingKeys: String, CodingKey {
            case kind, severity, accuracy
            case successRate = "success_rate"
            case meanTrueConfidence = "mean_true_confidence"
        }
    }

    public init(cleanAccuracy: Double, examples: Int? = nil, meanAccuracy: Double? = nil, results: [Result], seconds: Double? = nil) {
        (self.cleanAccuracy, self.examples, self.meanAccuracy, self.results, self.seconds) = (cleanAccuracy, examples, meanAccuracy, results, seconds)
    }

    enum CodingKeys: String, CodingKey {
        case results, examples, seconds
        case cleanAccuracy = "clean_accuracy"
        case meanAccuracy = "mean_accuracy"
    }
}
