import Cluster

/// The cluster's side of a run: placement, durations, retries, failures and throughput.
enum ClusterSummaryBuilder {
    /// - Parameter eventTimes: times of the store's `leased` and `done` events (`RunStore.eventTimes`).
    static func summarize(_ sweep: SweepReport, eventTimes: [String: [Double]]) -> ClusterSummary {
        let durations = sweep.trials.filter { $0.state == TrialState.done.rawValue }.compactMap(\.seconds).sorted()
        let retried = sweep.trials.filter { $0.attempts > 1 }
        let failures = sweep.trials.filter { $0.state == TrialState.failed.rawValue }.map {
            TrialIssue(id: $0.id, stage: $0.stage, state: $0.state, attempts: $0.attempts, reason: $0.failure ?? "no reason stored")
        }
        var wallSeconds: Double?
        if let firstLease = eventTimes["leased"]?.min(), let lastResult = eventTimes["done"]?.max(), lastResult >= firstLease {
            wallSeconds = lastResult - firstLease
        }
        let done = sweep.counts[TrialState.done.rawValue] ?? 0
        return ClusterSummary(
            counts: sweep.counts,
            hosts: workloads(sweep.hosts), workers: workloads(sweep.workers),
            durations: durations.isEmpty ? nil : ClusterSummary.Durations(
                count: durations.count, mean: durations.reduce(0, +) / Double(durations.count),
                median: median(ofSorted: durations), max: durations.last!),
            extraAttempts: sweep.trials.reduce(0) { $0 + max($1.attempts - 1, 0) },
            retriedTrials: retried.map(\.id),
            failures: failures,
            wallSeconds: wallSeconds,
            trialsPerHour: wallSeconds.flatMap { $0 > 0 ? Double(done) / ($0 / 3600) : nil })
    }

    private static func workloads(_ totals: [String: ResultTotals]) -> [ClusterSummary.Workload] {
        totals.keys.sorted().map { ClusterSummary.Workload(name: $0, done: totals[$0]!.done, seconds: totals[$0]!.seconds) }
    }

    static func median(ofSorted values: [Double]) -> Double {
        let middle = values.count / 2
        return values.count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2
    }
}
