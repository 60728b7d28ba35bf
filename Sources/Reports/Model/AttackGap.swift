/// Fixed-step PGD against AutoAttack at the same norm and eps, for one group: how much robustness
/// PGD claims that AutoAttack takes away. A large gap means PGD overestimates robustness (too few
/// steps, or masked gradients), most of all for models trained with robust objectives.
public struct AttackGap: Codable, Equatable, Sendable {
    public var task: String
    public var model: String
    public var stage: String
    public var variant: String
    public var pgd: AttackSetting
    public var autoAttack: AttackSetting
    /// Over the seeds that measured both.
    public var seeds: [Int]
    public var pgdAccuracy: Estimate
    public var autoAttackAccuracy: Estimate
    /// (PGD − AutoAttack) robust accuracy per seed, mean ± 95% CI: at least 0 for a sound PGD.
    public var gap: Estimate

    public var label: String { StageLabel.text(stage: stage, variant: variant) }

    enum CodingKeys: String, CodingKey {
        case task, model, stage, variant, pgd, seeds, gap
        case autoAttack = "autoattack"
        case pgdAccuracy = "pgd_accuracy"
        case autoAttackAccuracy = "autoattack_accuracy"
    }
}
