/// Linear CKA, and SVCCA beside it, between a stage's model and a reference model at one layer, over seeds.
public struct CKASummary: Codable, Equatable, Sendable {
    public var stage: String
    public var variant: String
    /// The stage of the other model (the parent, for a `from:` stage).
    public var reference: String
    public var layer: String
    /// Linear CKA.
    public var value: Estimate
    /// SVCCA's mean canonical correlation, over the seeds that measured it (nil: none did).
    public var svcca: Estimate?

    /// `value` as an optional, to be read by the same key path as `svcca`.
    var linearCKA: Estimate? { value }

    /// A heat-map row: this model against that one.
    public var pairLabel: String { "\(StageLabel.text(stage: stage, variant: variant)) vs \(reference)" }
}
