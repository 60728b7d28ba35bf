/// One stage (a role of the study) on one task and model, summarised over its seeds.
public struct StageGroupSummary: Codable, Equatable, Sendable {
    public var task: String
    public var model: String
    /// The stage name in the sweep: the role label reports show.
    public var stage: String
    /// The parameters that tell this group apart from other groups of the same stage (grid or
    /// random axes, its own or its parent's), e.g. `lr=0.01`; empty when the stage has one setting.
    public var variant: String
    /// The job type (`role` in the trial metrics).
    public var job: String
    public var seeds: [Int]
    public var trials: [String]
    /// On the whole test split (`cleanExamples` images when the trials say so).
    public var cleanAccuracy: Estimate
    public var cleanExamples: Int?
    /// On the attacked subset: the clean accuracy every robust accuracy of the group is bounded by.
    public var attackedCleanAccuracy: Estimate?
    public var attackedExamples: Int?
    /// The distinct trials the group's models started from (first parents), in trial order; empty
    /// for a root stage. One entry for several seeds: every seed fine-tuned the same source model.
    public var sources: [String] = []
    public var meanTrueConfidence: Estimate?
    public var worstCaseAccuracy: Estimate?
    public var attacks: [AttackSummary]
    /// Per epoch, each metric over the seeds that measured it; empty when no trial stored a curve.
    public var learningCurve: [EpochSummary] = []

    public var label: String { StageLabel.text(stage: stage, variant: variant) }

    enum CodingKeys: String, CodingKey {
        case task, model, stage, variant, job, seeds, trials, attacks
        case cleanAccuracy = "clean_accuracy"
        case meanTrueConfidence = "mean_true_confidence"
        case worstCaseAccuracy = "worst_case_accuracy"
        case cleanExamples = "clean_examples"
        case attackedCleanAccuracy = "attacked_clean_accuracy"
        case attackedExamples = "attacked_examples"
        case sources
        case learningCurve = "learning_curve"
    }

    /// Whether several seeds all started from one source model.
    public var sharesOneSource: Bool { sources.count == 1 && seeds.count > 1 }
}

/// One epoch of a group's learning curve: each metric's mean and interval over the seeds.
public struct EpochSummary: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainLoss: Estimate?
    public var trainAccuracy: Estimate?
    public var learningRate: Estimate?
    public var seconds: Estimate?
    public var validationAccuracy: Estimate?
    public var validationRobustAccuracy: Estimate?

    /// The curve's metrics as the CSV and the figures name them, in order.
    public static var metrics: [(key: String, title: String, value: KeyPath<EpochSummary, Estimate?>)] { [
        ("train_loss", "training loss", \.trainLoss), ("train_accuracy", "training accuracy", \.trainAccuracy),
        ("val_accuracy", "validation accuracy", \.validationAccuracy), ("val_robust_accuracy", "validation robust accuracy", \.validationRobustAccuracy),
        ("learning_rate", "learning rate", \.learningRate), ("seconds", "seconds", \.seconds),
    ] }

    enum CodingKeys: String, CodingKey {
        case epoch, seconds
        case trainLoss = "train_loss", trainAccuracy = "train_accuracy", learningRate = "learning_rate"
        case validationAccuracy = "val_accuracy", validationRobustAccuracy = "val_robust_accuracy"
    }
}

/// One attack's results for a group, each over the seeds that measured it.
public struct AttackSummary: Codable, Equatable, Sendable {
    public var setting: AttackSetting
    public var robustAccuracy: Estimate
    public var successRate: Estimate?
    public var meanTrueConfidenceClean: Estimate?
    public var meanTrueConfidenceAdversarial: Estimate?

    enum CodingKeys: String, CodingKey {
        case setting
        case robustAccuracy = "robust_accuracy"
        case successRate = "success_rate"
        case meanTrueConfidenceClean = "mean_true_confidence_clean"
        case meanTrueConfidenceAdversarial = "mean_true_confidence_adv"
    }
}

/// How a stage and its variant are named in tables and legends.
public enum StageLabel {
    public static func text(stage: String, variant: String) -> String {
        variant.isEmpty ? stage : "\(stage) [\(variant)]"
    }
}
