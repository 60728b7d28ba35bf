import Cluster

/// Builds the `StudyReport` of a run store: the one entry point of the aggregation.
public enum StudyReportBuilder {
    public static func build(store: RunStore) throws -> StudyReport {
        build(sweep: try store.report(), eventTimes: try store.eventTimes(kinds: ["leased", "done"]))
    }

    /// The report of a store's contents, without touching the store (what the tests drive too).
    public static func build(sweep: SweepReport, eventTimes: [String: [Double]]) -> StudyReport {
        var studyTrials: [(TrialReport, StudyTrialMetrics)] = []
        var excluded: [TrialIssue] = []
        var nonStudy = 0
        for trial in sweep.trials {
            guard trial.state == TrialState.done.rawValue else {
                excluded.append(TrialIssue(id: trial.id, stage: trial.stage, state: trial.state, attempts: trial.attempts,
                                           reason: trial.failure ?? (trial.state == TrialState.leased.rawValue ? "running" : "not run yet")))
                continue
            }
            guard let metrics = trial.metrics, StudyTrialMetrics.isStudy(metrics) else { nonStudy += 1; continue }
            switch StudyTrialMetrics.parse(metrics) {
            case let .success(parsed): studyTrials.append((trial, parsed))
            case let .failure(error):
                excluded.append(TrialIssue(id: trial.id, stage: trial.stage, state: trial.state, attempts: trial.attempts,
                                           reason: "unreadable metrics: \(error.problem)"))
            }
        }
        let parsedByID = Dictionary(studyTrials.map { ($0.0.id, $0.1) }, uniquingKeysWith: { first, _ in first })
        let variants = TrialVariants.variants(of: sweep.trials) { trial in
            parsedByID[trial.id].map { "\($0.task)\u{1F}\($0.model)" } ?? ""
        }
        let trials = studyTrials.map { trial, metrics in
            StudyTrial(id: trial.id, stage: trial.stage, seed: trial.seed, variant: variants[trial.id] ?? "", metrics: metrics)
        }
        let groups = StageGrouping.groups(trials)
        return StudyReport(
            sweep: sweep.sweep, confidenceLevel: Estimate.confidenceLevel,
            groups: groups.map(StageGrouping.summary),
            pairedDifferences: PairedDifferences.compute(groups),
            cka: CKAAggregation.summarize(groups),
            cluster: ClusterSummaryBuilder.summarize(sweep, eventTimes: eventTimes),
            excludedTrials: excluded, nonStudyTrials: nonStudy)
    }
}
