import Cluster
import StudyMetrics

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
        studyTrials = foldingReevaluations(studyTrials)
        let parsedByID = Dictionary(studyTrials.map { ($0.0.id, $0.1) }, uniquingKeysWith: { first, _ in first })
        let variants = TrialVariants.variants(of: sweep.trials) { trial in
            parsedByID[trial.id].map { "\($0.task)\u{1F}\($0.model)" } ?? ""
        }
        let trials = studyTrials.map { trial, metrics in
            MeasuredTrial(id: trial.id, stage: trial.stage, seed: trial.seed, variant: variants[trial.id] ?? "", parent: trial.parent, metrics: metrics)
        }
        let groups = StageGrouping.groups(trials)
        // Analysis trials (CKA between roles) have no classifier measurements: CKA only.
        let classifiers = groups.filter { $0.trials.allSatisfy { $0.metrics.cleanAccuracy != nil } }
        return StudyReport(
            sweep: sweep.sweep, confidenceLevel: Estimate.confidenceLevel,
            groups: classifiers.map(StageGrouping.summary),
            pairedDifferences: PairedDifferences.compute(classifiers),
            cka: CKAAggregation.summarize(groups),
            attackGaps: AttackGaps.compute(classifiers),
            warnings: WarningAggregation.collect(classifiers),
            corruptions: CorruptionAggregation.summarize(classifiers),
            cluster: ClusterSummaryBuilder.summarize(sweep, eventTimes: eventTimes),
            excludedTrials: excluded, nonStudyTrials: nonStudy)
    }

    /// A re-evaluation (`rt evaluate`) adds its attacks to the row of the trial it measured, so a
    /// stronger attack appears next to the original ones and pairs with standard like them. An
    /// attack setting the trial already has keeps the original result; the trial's worst case
    /// stays that of its own suite; its sanity warnings join the trial's. A re-evaluation whose trial
    /// is not in the report keeps its own row.
    static func foldingReevaluations(_ trials: [(TrialReport, StudyTrialMetrics)]) -> [(TrialReport, StudyTrialMetrics)] {
        var result = trials
        let position = Dictionary(trials.enumerated().map { ($1.0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var folded = Set<String>()
        for (trial, metrics) in trials where metrics.evaluates != nil {
            guard let parent = trial.parent, let i = position[parent], result[i].1.evaluates == nil else { continue }
            for attack in metrics.attacks where !result[i].1.attacks.contains(where: { $0.setting == attack.setting }) {
                result[i].1.attacks.append(attack)
            }
            result[i].1.corruptions = CorruptionMetrics.folding(metrics.corruptions, into: result[i].1.corruptions)
            for warning in metrics.warnings where !result[i].1.warnings.contains(warning) { result[i].1.warnings.append(warning) }
            folded.insert(trial.id)
        }
        return result.filter { !folded.contains($0.0.id) }
    }
}
