/// One stage minus a baseline stage on the same task and model, seed by seed: the paired
/// design removes the seed-to-seed variation the two share (same data order, same subset attacked).
///
/// Two comparisons are made: every stage against `standard` (from scratch), and every robust
/// fine-tune (the roles in `robustFineTuneRoles`) against `finetune` (plain fine-tuning), which is
/// what a robust fine-tuning method has to repair.
public struct PairedDifference: Codable, Equatable, Sendable {
    public static let baselineStage = "standard"
    /// The paper's finding is about this stage minus `standard`; it is also the baseline of the
    /// robust fine-tunes.
    public static let headlineStage = "finetune"
    /// Jobs (`role` in the trial metrics) that fine-tune with a robust objective.
    public static let robustFineTuneRoles: Set<String> = ["dm", "trades", "adv-finetune"]

    public var task: String
    public var model: String
    public var stage: String
    public var variant: String
    /// The stage subtracted: `standard`, or `finetune` for a robust fine-tune.
    public var baseline: String
    public var baselineVariant: String
    public var metric: Metric
    /// The attack whose robust accuracy is compared; nil for clean accuracy.
    public var attack: AttackSetting?
    /// The seeds both stages measured, in increasing order.
    public var seeds: [Int]
    /// Mean and interval of (stage − baseline) over the paired seeds.
    public var difference: Estimate

    public enum Metric: String, Codable, Sendable {
        case cleanAccuracy = "clean_accuracy"
        /// Clean accuracy on the attacked subset: the examples the robust accuracies are measured on.
        case attackedCleanAccuracy = "attacked_clean_accuracy"
        case robustAccuracy = "robust_accuracy"
    }

    public var label: String { StageLabel.text(stage: stage, variant: variant) }
    public var baselineLabel: String { StageLabel.text(stage: baseline, variant: baselineVariant) }
    /// `finetune − standard`: the two sides, as tables and legends name the comparison.
    public var comparisonLabel: String { "\(label) − \(baselineLabel)" }
    public var metricLabel: String {
        switch metric {
        case .cleanAccuracy: return "clean, full test set"
        case .attackedCleanAccuracy: return "clean, attacked subset"
        case .robustAccuracy: return attack.map { "robust \($0.label)" } ?? "robust"
        }
    }
    /// finetune − standard, the comparison the paper's finding is about.
    public var isHeadline: Bool { stage == Self.headlineStage && baseline == Self.baselineStage }

    enum CodingKeys: String, CodingKey {
        case task, model, stage, variant, baseline, metric, attack, seeds, difference
        case baselineVariant = "baseline_variant"
    }
}
