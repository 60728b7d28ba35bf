import StudyMetrics

/// (stage − standard) per seed for every stage measured on the task and model of a `standard`
/// stage, and (robust fine-tune − finetune) for every robust fine-tune measured beside a
/// `finetune` stage: clean accuracy (on the full test set and on the attacked subset) and the
/// robust accuracy of each attack both measured.
enum PairedDifferences {
    /// Ordered by task and model; against `standard` first (the headline stage `finetune` first,
    /// then the groups' order), then the robust fine-tunes against `finetune`; within a pair of
    /// groups clean accuracy first, then attacks in order.
    static func compute(_ groups: [TrialGroup]) -> [PairedDifference] {
        let indexed = groups.enumerated().map { (offset: $0.offset, group: $0.element) }
        var pairs: [(rank: (String, String, Int, Int, Int), group: TrialGroup, baseline: TrialGroup)] = []
        for (offset, group) in indexed {
            let key = group.key
            if key.stage != PairedDifference.baselineStage {
                let rank = key.stage == PairedDifference.headlineStage ? 0 : 1
                for (n, baseline) in baselines(of: group, named: PairedDifference.baselineStage, in: groups).enumerated() {
                    pairs.append(((key.task, key.model, rank, offset, n), group, baseline))
                }
            }
            if PairedDifference.robustFineTuneRoles.contains(group.trials[0].metrics.role) {
                for (n, baseline) in baselines(of: group, named: PairedDifference.headlineStage, in: groups).enumerated() {
                    pairs.append(((key.task, key.model, 2, offset, n), group, baseline))
                }
            }
        }
        return pairs.sorted { $0.rank < $1.rank }.flatMap { differences($0.group, minus: $0.baseline) }
    }

    /// The groups of stage `name` on the group's task and model. Same grid on both sides
    /// (finetune and standard over the same lr values): like is compared with like; otherwise
    /// every variant of the baseline is one.
    private static func baselines(of group: TrialGroup, named name: String, in groups: [TrialGroup]) -> [TrialGroup] {
        let candidates = groups.filter { $0.key.stage == name && $0.key.task == group.key.task && $0.key.model == group.key.model }
        let matching = candidates.filter { $0.key.variant == group.key.variant && !group.key.variant.isEmpty }
        return matching.isEmpty ? candidates : matching
    }

    private static func differences(_ group: TrialGroup, minus baseline: TrialGroup) -> [PairedDifference] {
        func make(_ metric: PairedDifference.Metric, _ attack: AttackSetting?, _ value: (StudyTrialMetrics) -> Double?) -> PairedDifference? {
            let mine = meanBySeed(group.trials, value), theirs = meanBySeed(baseline.trials, value)
            let seeds = Set(mine.keys).intersection(theirs.keys).sorted()
            guard let difference = Estimate(seeds.map { mine[$0]! - theirs[$0]! }) else { return nil }
            return PairedDifference(task: group.key.task, model: group.key.model, stage: group.key.stage, variant: group.key.variant,
                                    baseline: baseline.key.stage, baselineVariant: baseline.key.variant, metric: metric, attack: attack,
                                    seeds: seeds, difference: difference)
        }
        let settings = Set((group.trials + baseline.trials).flatMap { $0.metrics.attacks.map(\.setting) }).sorted()
        let clean = make(.cleanAccuracy, nil) { $0.cleanAccuracy }
        let attackedClean = make(.attackedCleanAccuracy, nil) { $0.attackedCleanAccuracy }
        let robust = settings.compactMap { setting in
            make(.robustAccuracy, setting) { metrics in metrics.attacks.first { $0.setting == setting }?.robustAccuracy }
        }
        return [clean, attackedClean].compactMap { $0 } + robust
    }

    /// One value per seed; a seed measured twice in a group (a repeated seed in the sweep)
    /// contributes the mean of its measurements, so it is paired once. Pairing follows the trial
    /// seed, which for a fine-tune fanned out from one source model is the target seed.
    private static func meanBySeed(_ trials: [MeasuredTrial], _ value: (StudyTrialMetrics) -> Double?) -> [Int: Double] {
        var values: [Int: [Double]] = [:]
        for trial in trials { if let v = value(trial.metrics) { values[trial.seed, default: []].append(v) } }
        return values.mapValues { $0.reduce(0, +) / Double($0.count) }
    }
}
