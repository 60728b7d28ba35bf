/// (stage − standard) per seed, for every stage measured on the task and model of a `standard`
/// stage: clean accuracy and the robust accuracy of each attack both measured.
enum PairedDifferences {
    /// Ordered by task and model, the headline stage (`finetune`) first, then the groups' order;
    /// within a pair of groups clean accuracy first, then attacks in order.
    static func compute(_ groups: [TrialGroup]) -> [PairedDifference] {
        var out: [PairedDifference] = []
        let baselines = groups.filter { $0.key.stage == PairedDifference.baselineStage }
        let compared = groups.enumerated()
            .filter { $0.element.key.stage != PairedDifference.baselineStage }
            .sorted { lhs, rhs in
                let l = (lhs.element.key.task, lhs.element.key.model, lhs.element.key.stage == PairedDifference.headlineStage ? 0 : 1, lhs.offset)
                let r = (rhs.element.key.task, rhs.element.key.model, rhs.element.key.stage == PairedDifference.headlineStage ? 0 : 1, rhs.offset)
                return l < r
            }
            .map(\.element)
        for group in compared {
            let candidates = baselines.filter { $0.key.task == group.key.task && $0.key.model == group.key.model }
            // Same grid on both sides (finetune and standard over the same lr values): compare
            // like with like. Otherwise every variant of standard is a baseline.
            let matching = candidates.filter { $0.key.variant == group.key.variant && !group.key.variant.isEmpty }
            for baseline in matching.isEmpty ? candidates : matching {
                out += differences(group, minus: baseline)
            }
        }
        return out
    }

    private static func differences(_ group: TrialGroup, minus baseline: TrialGroup) -> [PairedDifference] {
        func make(_ metric: PairedDifference.Metric, _ attack: AttackSetting?, _ value: (StudyTrialMetrics) -> Double?) -> PairedDifference? {
            let mine = meanBySeed(group.trials, value), theirs = meanBySeed(baseline.trials, value)
            let seeds = Set(mine.keys).intersection(theirs.keys).sorted()
            guard let difference = Estimate(seeds.map { mine[$0]! - theirs[$0]! }) else { return nil }
            return PairedDifference(task: group.key.task, model: group.key.model, stage: group.key.stage, variant: group.key.variant,
                                    baselineVariant: baseline.key.variant, metric: metric, attack: attack, seeds: seeds, difference: difference)
        }
        let settings = Set((group.trials + baseline.trials).flatMap { $0.metrics.attacks.map(\.setting) }).sorted()
        let clean = make(.cleanAccuracy, nil) { $0.cleanAccuracy }
        let robust = settings.compactMap { setting in
            make(.robustAccuracy, setting) { metrics in metrics.attacks.first { $0.setting == setting }?.robustAccuracy }
        }
        return [clean].compactMap { $0 } + robust
    }

    /// One value per seed; a seed measured twice in a group (a repeated seed in the sweep)
    /// contributes the mean of its measurements, so it is paired once.
    private static func meanBySeed(_ trials: [StudyTrial], _ value: (StudyTrialMetrics) -> Double?) -> [Int: Double] {
        var values: [Int: [Double]] = [:]
        for trial in trials { if let v = value(trial.metrics) { values[trial.seed, default: []].append(v) } }
        return values.mapValues { $0.reduce(0, +) / Double($0.count) }
    }
}
