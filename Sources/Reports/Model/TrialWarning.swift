/// A sanity warning a study trial stored (`warnings` in its metrics: AutoAttack's checks and the
/// like, docs/ROBUSTNESS.md), with the group it belongs to and every seed that raised the same text.
public struct TrialWarning: Codable, Equatable, Sendable {
    public var task: String
    public var model: String
    public var stage: String
    public var variant: String
    /// The seeds whose trials stored this exact warning, in increasing order.
    public var seeds: [Int]
    public var trials: [String]
    public var text: String

    public var label: String { StageLabel.text(stage: stage, variant: variant) }
}
