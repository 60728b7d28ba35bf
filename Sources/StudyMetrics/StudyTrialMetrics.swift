import Foundation

/// `results.metrics` of a study trial (docs/STUDY.md): the one schema the jobs write and the
/// reports read. Stored as JSON in snake_case; optional fields are absent when not measured, and
/// the lists (`attacks`, `warnings`, `cka`, `learning_curve`) are absent when empty, so stores
/// written before a field existed still decode.
public struct StudyTrialMetrics: Codable, Equatable, Sendable {
    /// The role (`pretrain`, `finetune`, ...), or the analysis (`cka`, `evaluate`).
    public var role: String
    /// `dataset[classes]`: the task the model was trained (or evaluated) on.
    public var task: String
    public var model: String
    public var dataset: String?
    public var classes: String?
    public var trainExamples: Int?
    public var epochs: Int?
    /// Replicas that trained it together (data-parallel), and the step an attempt resumed from.
    public var replicas: Int?
    public var resumedFromStep: Int?
    /// nil for analysis trials (a `cka` job measures representations, not a classifier).
    public var cleanAccuracy: Double?
    /// Test images `clean_accuracy` is measured on (the whole test split); nil in older stores.
    public var cleanExamples: Int?
    public var meanTrueConfidence: Double?
    /// Clean accuracy on the attacked subset: the examples every robust accuracy is measured on.
    public var attackedCleanAccuracy: Double?
    public var attackedExamples: Int?
    public var attacks: [AttackMetrics] = []
    /// The lowest accuracy over the attacks, per example (an example counts if any attack fools it).
    public var worstCaseAccuracy: Double?
    /// AutoAttack's sanity flags and the like (docs/ROBUSTNESS.md).
    public var warnings: [String] = []
    /// Common corruptions, when the sweep's `attacks:` has a corruption entry.
    public var corruptions: CorruptionMetrics?
    public var cka: [CKAValue] = []
    public var frequency: FrequencyMetrics?
    /// Per epoch; empty in stores from before it was kept.
    public var learningCurve: [LearningCurvePoint] = []
    /// Set by a re-evaluation (`evaluate`): the stage of the trial whose checkpoint it attacked.
    public var evaluates: String?
    /// Set by a `cka` analysis: the stage every other parent is compared with, on this many examples.
    public var compared: String?
    public var examples: Int?
    public var trainSeconds: Double?
    public var evalSeconds: Double?

    public static let analysisRole = "cka"

    public init(role: String, task: String, model: String) {
        (self.role, self.task, self.model) = (role, task, model)
    }

    enum CodingKeys: String, CodingKey {
        case role, task, model, dataset, classes, epochs, replicas, attacks, warnings, corruptions, cka, frequency
        case evaluates, compared, examples
        case trainExamples = "train_examples"
        case resumedFromStep = "resumed_from_step"
        case cleanAccuracy = "clean_accuracy"
        case cleanExamples = "clean_examples"
        case meanTrueConfidence = "mean_true_confidence"
        case attackedCleanAccuracy = "attacked_clean_accuracy"
        case attackedExamples = "attacked_examples"
        case worstCaseAccuracy = "worst_case_accuracy"
        case learningCurve = "learning_curve"
        case trainSeconds = "train_seconds"
        case evalSeconds = "eval_seconds"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        role = try c.decode(String.self, forKey: .role)
        task = try c.decode(String.self, forKey: .task)
        model = try c.decode(String.self, forKey: .model)
        dataset = try c.decodeIfPresent(String.self, forKey: .dataset)
        classes = try c.decodeIfPresent(String.self, forKey: .classes)
        trainExamples = try c.decodeIfPresent(Int.self, forKey: .trainExamples)
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs)
        replicas = try c.decodeIfPresent(Int.self, forKey: .replicas)
        resumedFromStep = try c.decodeIfPresent(Int.self, forKey: .resumedFromStep)
        // Only an analysis trial (`cka`) measures no classifier; for any other role a missing
        // clean accuracy is a broken trial and is reported as one.
        cleanAccuracy = role == Self.analysisRole
            ? try c.decodeIfPresent(Double.self, forKey: .cleanAccuracy)
            : try c.decode(Double.self, forKey: .cleanAccuracy)
        cleanExamples = try c.decodeIfPresent(Int.self, forKey: .cleanExamples)
        meanTrueConfidence = try c.decodeIfPresent(Double.self, forKey: .meanTrueConfidence)
        attackedCleanAccuracy = try c.decodeIfPresent(Double.self, forKey: .attackedCleanAccuracy)
        attackedExamples = try c.decodeIfPresent(Int.self, forKey: .attackedExamples)
        attacks = try c.decodeIfPresent([AttackMetrics].self, forKey: .attacks) ?? []
        worstCaseAccuracy = try c.decodeIfPresent(Double.self, forKey: .worstCaseAccuracy)
        warnings = try c.decodeIfPresent([String].self, forKey: .warnings) ?? []
        corruptions = try c.decodeIfPresent(CorruptionMetrics.self, forKey: .corruptions)
        // A sweep asks for CKA or not (docs/STUDY.md): absent means none measured.
        cka = try c.decodeIfPresent([CKAValue].self, forKey: .cka) ?? []
        frequency = try c.decodeIfPresent(FrequencyMetrics.self, forKey: .frequency)
        learningCurve = try c.decodeIfPresent([LearningCurvePoint].self, forKey: .learningCurve) ?? []
        evaluates = try c.decodeIfPresent(String.self, forKey: .evaluates)
        compared = try c.decodeIfPresent(String.self, forKey: .compared)
        examples = try c.decodeIfPresent(Int.self, forKey: .examples)
        trainSeconds = try c.decodeIfPresent(Double.self, forKey: .trainSeconds)
        evalSeconds = try c.decodeIfPresent(Double.self, forKey: .evalSeconds)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(role, forKey: .role)
        try c.encode(task, forKey: .task)
        try c.encode(model, forKey: .model)
        try c.encodeIfPresent(dataset, forKey: .dataset)
        try c.encodeIfPresent(classes, forKey: .classes)
        try c.encodeIfPresent(trainExamples, forKey: .trainExamples)
        try c.encodeIfPresent(epochs, forKey: .epochs)
        try c.encodeIfPresent(replicas, forKey: .replicas)
        try c.encodeIfPresent(resumedFromStep, forKey: .resumedFromStep)
        try c.encodeIfPresent(cleanAccuracy, forKey: .cleanAccuracy)
        try c.encodeIfPresent(cleanExamples, forKey: .cleanExamples)
        try c.encodeIfPresent(meanTrueConfidence, forKey: .meanTrueConfidence)
        try c.encodeIfPresent(attackedCleanAccuracy, forKey: .attackedCleanAccuracy)
        try c.encodeIfPresent(attackedExamples, forKey: .attackedExamples)
        if !attacks.isEmpty { try c.encode(attacks, forKey: .attacks) }
        try c.encodeIfPresent(worstCaseAccuracy, forKey: .worstCaseAccuracy)
        if !warnings.isEmpty { try c.encode(warnings, forKey: .warnings) }
        try c.encodeIfPresent(corruptions, forKey: .corruptions)
        if !cka.isEmpty { try c.encode(cka, forKey: .cka) }
        try c.encodeIfPresent(frequency, forKey: .frequency)
        if !learningCurve.isEmpty { try c.encode(learningCurve, forKey: .learningCurve) }
        try c.encodeIfPresent(evaluates, forKey: .evaluates)
        try c.encodeIfPresent(compared, forKey: .compared)
        try c.encodeIfPresent(examples, forKey: .examples)
        try c.encodeIfPresent(trainSeconds, forKey: .trainSeconds)
        try c.encodeIfPresent(evalSeconds, forKey: .evalSeconds)
    }
}
