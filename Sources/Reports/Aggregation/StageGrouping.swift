import StudyMetrics

/// Groups study trials by (task, model, stage, variant) and summarises each group over its seeds.
enum StageGrouping {
    /// Groups ordered by task, model, then stage and variant as they first appear in the
    /// trials (the sweep's order, so pre-train comes before the stages built from it).
    static func groups(_ trials: [MeasuredTrial]) -> [TrialGroup] {
        var members: [GroupKey: [MeasuredTrial]] = [:]
        var stageRank: [String: Int] = [:], keyRank: [GroupKey: Int] = [:]
        for (index, trial) in trials.enumerated() {
            members[trial.groupKey, default: []].append(trial)
            if stageRank[trial.stage] == nil { stageRank[trial.stage] = index }
            if keyRank[trial.groupKey] == nil { keyRank[trial.groupKey] = index }
        }
        return members.keys.sorted {
            ($0.task, $0.model, stageRank[$0.stage]!, keyRank[$0]!) < ($1.task, $1.model, stageRank[$1.stage]!, keyRank[$1]!)
        }.map { TrialGroup(key: $0, trials: members[$0]!) }
    }

    static func summary(of group: TrialGroup) -> StageGroupSummary {
        let trials = group.trials
        let settings = Set(trials.flatMap { $0.metrics.attacks.map(\.setting) }).sorted()
        let attacks = settings.map { setting -> AttackSummary in
            let results = trials.compactMap { trial in trial.metrics.attacks.first { $0.setting == setting } }
            return AttackSummary(
                setting: setting,
                robustAccuracy: Estimate(results.map(\.robustAccuracy))!, // at least one trial has this setting
                successRate: Estimate(results.compactMap(\.successRate)),
                meanTrueConfidenceClean: Estimate(results.compactMap(\.meanTrueConfidenceClean)),
                meanTrueConfidenceAdversarial: Estimate(results.compactMap(\.meanTrueConfidenceAdv)))
        }
        return StageGroupSummary(
            task: group.key.task, model: group.key.model, stage: group.key.stage, variant: group.key.variant,
            job: trials[0].metrics.role, seeds: trials.map(\.seed).sorted(), trials: trials.map(\.id),
            cleanAccuracy: Estimate(trials.compactMap(\.metrics.cleanAccuracy))!, // callers pass groups whose trials all have it
            cleanExamples: common(trials.map(\.metrics.cleanExamples)),
            attackedCleanAccuracy: Estimate(trials.compactMap(\.metrics.attackedCleanAccuracy)),
            attackedExamples: common(trials.map(\.metrics.attackedExamples)),
            sources: trials.compactMap(\.parent).reduce(into: []) { if !$0.contains($1) { $0.append($1) } },
            meanTrueConfidence: Estimate(trials.compactMap(\.metrics.meanTrueConfidence)),
            worstCaseAccuracy: Estimate(trials.compactMap(\.metrics.worstCaseAccuracy)),
            attacks: attacks, learningCurve: learningCurve(trials))
    }

    /// Epoch by epoch over the trials that reached it (a resumed or shorter trial counts where it has the epoch).
    static func learningCurve(_ trials: [MeasuredTrial]) -> [EpochSummary] {
        let points = trials.flatMap(\.metrics.learningCurve)
        return Set(points.map(\.epoch)).sorted().map { epoch in
            let at = points.filter { $0.epoch == epoch }
            return EpochSummary(epoch: epoch, trainLoss: Estimate(at.map(\.trainLoss)), trainAccuracy: Estimate(at.map(\.trainAccuracy)),
                                learningRate: Estimate(at.compactMap(\.learningRate)), seconds: Estimate(at.compactMap(\.seconds)),
                                validationAccuracy: Estimate(at.compactMap(\.valAccuracy)),
                                validationRobustAccuracy: Estimate(at.compactMap(\.valRobustAccuracy)))
        }
    }

    /// The value every trial reports, or nil when they differ or some lack it.
    private static func common(_ values: [Int?]) -> Int? {
        guard let first = values.first, values.allSatisfy({ $0 == first }) else { return nil }
        return first
    }
}
