/// The sanity warnings of the study's trials, per group: one entry per distinct text with the
/// seeds that raised it, in the groups' order, then by the first seed that raised it.
enum WarningAggregation {
    static func collect(_ groups: [TrialGroup]) -> [TrialWarning] {
        var warnings: [TrialWarning] = []
        for group in groups {
            var byText: [String: Int] = [:]
            for trial in group.trials.sorted(by: { ($0.seed, $0.id) < ($1.seed, $1.id) }) {
                for text in trial.metrics.warnings {
                    if let index = byText[text] {
                        if !warnings[index].seeds.contains(trial.seed) { warnings[index].seeds.append(trial.seed) }
                        warnings[index].trials.append(trial.id)
                    } else {
                        byText[text] = warnings.count
                        warnings.append(TrialWarning(task: group.key.task, model: group.key.model, stage: group.key.stage,
                                                     variant: group.key.variant, seeds: [trial.seed], trials: [trial.id], text: text))
                    }
                }
            }
        }
        return warnings
    }
}
