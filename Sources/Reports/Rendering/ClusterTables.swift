/// The cluster summary and the trials left out, as tables.
enum ClusterTables {
    static func overview(_ cluster: ClusterSummary) -> ReportTable {
        let states = cluster.counts.keys.sorted().map { "\(cluster.counts[$0]!) \($0)" }.joined(separator: ", ")
        var rows: [[String]] = [
            ["trials", states.isEmpty ? "none" : states],
            ["wall time (first lease to last result)", NumberText.duration(cluster.wallSeconds)],
            ["throughput", cluster.trialsPerHour.map { NumberText.fixed($0, digits: 1) + " done trials per hour" } ?? NumberText.missing],
        ]
        if let durations = cluster.durations {
            rows.append(["trial duration (\(durations.count) done)",
                         "mean \(NumberText.seconds(durations.mean)), median \(NumberText.seconds(durations.median)), max \(NumberText.seconds(durations.max))"])
        } else {
            rows.append(["trial duration", "no trial done"])
        }
        let retried = cluster.retriedTrials.isEmpty ? "" : ": " + cluster.retriedTrials.joined(separator: ", ")
        rows.append(["retries", "\(cluster.extraAttempts) extra leases; \(cluster.retriedTrials.count) trials needed more than one\(retried)"])
        rows.append(["failures", "\(cluster.failures.count)"])
        return ReportTable(header: ["measure", "value"], rows: rows)
    }

    static func workloads(_ workloads: [ClusterSummary.Workload], kind: String) -> ReportTable {
        ReportTable(header: [kind, "done trials", "seconds (sum)"],
                    rows: workloads.map { [$0.name, "\($0.done)", NumberText.fixed($0.seconds, digits: 1)] },
                    numericColumns: [1, 2])
    }

    static func issues(_ issues: [TrialIssue]) -> ReportTable {
        ReportTable(header: ["trial", "stage", "state", "attempts", "reason"],
                    rows: issues.map { [$0.id, $0.stage, $0.state, "\($0.attempts)", $0.reason] },
                    numericColumns: [3])
    }
}
