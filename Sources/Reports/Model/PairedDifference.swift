/// A stage minus the `standard` stage on the same task and model, seed by seed: the paired
/// design removes the seed-to-seed variation the two share (same data order, same subset attacked).
public struct PairedDifference: Codable, Equatable, Sendable {
    public static let baselineStage = "standard"
    /// The paper's finding is about this difference.
    public static let headlineStage = "finetune"

    public var task: String
    public var model: String
    public var stage: String
    public var variant: String
    public var baselineVariant: String
    public var metric: Metric
    /// The attack whose robust accuracy is compared; nil for clean accuracy.
    public var attack: AttackSetting?
    /// The seeds both stages measured, in increasing order.
    public var seeds: [Int]
    /// Mean and interval of (stage − standard) over the paired seeds.
    public var difference: Estimate

    public enum Metric: String, Codable, Sendable {
        case cleanAccuracy = "clean_accuracy"
        case robustAccuracy = "robust_accuracy"
    }

    public var label: String { StageLabel.text(stage: stage, variant: variant) }
    public var baselineLabel: String { StageLabel.text(stage: Self.baselineStage, variant: baselineVariant) }
    public var metricLabel: String { attack.map { "robust \($0.label)" } ?? "clean" }
    public var isHeadline: Bool { stage == Self.headlineStage }

    enum CodingKeys: String, CodingKey {
        case task, model, stage, variant, metric, attack, seeds, difference
        case baselineVariant = "baseline_variant"
    }
}
