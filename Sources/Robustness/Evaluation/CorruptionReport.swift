/// Accuracy under one (corruption, severity).
public struct CorruptionResult: Sendable, Codable, Equatable {
    public var kind: CorruptionKind
    public var severity: Int
    /// Fraction classified correctly on the corrupted image, whatever the clean prediction (Hendrycks &
    /// Dietterich's E_{s,c} is 1 − this). Unlike an attack's robust accuracy it can exceed the clean one.
    public var accuracy: Double
    /// Among the examples correct on the clean image, the fraction the corruption makes wrong.
    public var successRate: Double
    /// Mean softmax probability of the true class on the corrupted images.
    public var meanTrueConfidence: Double
    /// Per example, in dataset order: correct on the corrupted image.
    public var correct: [Bool]
    /// Wall and CPU seconds of this corruption: corrupting the images and classifying them.
    public var seconds: Double
    public var cpuSeconds: Double

    enum CodingKeys: String, CodingKey {
        case kind, severity, accuracy, correct, seconds
        case successRate = "success_rate", meanTrueConfidence = "mean_true_confidence", cpuSeconds = "cpu_seconds"
    }
}

/// A model's accuracy on a dataset under common corruptions.
public struct CorruptionReport: Sendable, Codable, Equatable {
    public var cleanAccuracy: Double
    public var meanTrueConfidenceClean: Double
    public var examples: Int
    public var results: [CorruptionResult]

    enum CodingKeys: String, CodingKey {
        case examples, results
        case cleanAccuracy = "clean_accuracy", meanTrueConfidenceClean = "mean_true_confidence_clean"
    }

    /// The kinds measured, in the order they ran.
    public var kinds: [CorruptionKind] {
        var seen: [CorruptionKind] = []
        for r in results where !seen.contains(r.kind) { seen.append(r.kind) }
        return seen
    }

    /// Mean accuracy over the severities of one kind.
    public func meanAccuracy(_ kind: CorruptionKind) -> Double {
        let own = results.filter { $0.kind == kind }
        return own.isEmpty ? 0 : own.map(\.accuracy).reduce(0, +) / Double(own.count)
    }

    /// The mean over kinds of each kind's mean over severities (ImageNet-C's mean corruption accuracy).
    public var meanAccuracy: Double {
        let kinds = self.kinds
        return kinds.isEmpty ? 0 : kinds.map(meanAccuracy).reduce(0, +) / Double(kinds.count)
    }
}
