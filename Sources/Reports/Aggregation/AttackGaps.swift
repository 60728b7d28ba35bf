import StudyMetrics

/// PGD − AutoAttack per group, for every PGD setting with an AutoAttack setting at its norm and eps.
enum AttackGaps {
    static func compute(_ groups: [TrialGroup]) -> [AttackGap] {
        groups.flatMap { group -> [AttackGap] in
            let settings = Set(group.trials.flatMap { $0.metrics.attacks.map(\.setting) }).sorted()
            let pairs = settings.filter { $0.attack == AttackSetting.pgdName }.flatMap { pgd in
                settings.filter { $0.isAutoAttack && $0.norm == pgd.norm && $0.eps == pgd.eps }.map { (pgd, $0) }
            }
            return pairs.compactMap { pgd, autoAttack in
                let measured = group.trials.sorted { ($0.seed, $0.id) < ($1.seed, $1.id) }.compactMap { trial -> (Int, Double, Double)? in
                    guard let a = trial.metrics.robustAccuracy(pgd), let b = trial.metrics.robustAccuracy(autoAttack) else { return nil }
                    return (trial.seed, a, b)
                }
                guard let gap = Estimate(measured.map { $0.1 - $0.2 }) else { return nil }
                return AttackGap(task: group.key.task, model: group.key.model, stage: group.key.stage, variant: group.key.variant,
                                 pgd: pgd, autoAttack: autoAttack, seeds: measured.map(\.0),
                                 pgdAccuracy: Estimate(measured.map(\.1))!, autoAttackAccuracy: Estimate(measured.map(\.2))!, gap: gap)
            }
        }
    }
}

extension StudyTrialMetrics {
    /// The robust accuracy this trial measured under `setting`, if it did.
    func robustAccuracy(_ setting: AttackSetting) -> Double? {
        attacks.first { $0.setting == setting }?.robustAccuracy
    }
}
