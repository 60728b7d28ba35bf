/// Linear CKA between a stage's model and a reference model at one layer, over seeds.
public struct CKASummary: Codable, Equatable, Sendable {
    public var stage: String
    public var variant: String
    /// The stage of the other model (the parent, for a `from:` stage).
    public var reference: String
    public var layer: String
    public var value: Estimate

    /// A heat-map row: this model against that one.
    public var pairLabel: String { "\(StageLabel.text(stage: stage, variant: variant)) vs \(reference)" }
}
