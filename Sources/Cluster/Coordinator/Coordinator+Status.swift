import Foundation

/// The live picture `rt status` asks for.
extension Coordinator {
    func countsText() -> String {
        let counts = scheduler.counts()
        return TrialState.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
    }

    func status() -> ClusterStatus {
        let now = Date()
        var counts: [String: Int] = [:]
        for (state, n) in scheduler.counts() { counts[state.rawValue] = n }
        let elapsed = now.timeIntervalSince(startedAt)
        let throughput = elapsed > 0 ? Double(finishedInSession) / elapsed : 0
        let remaining = scheduler.total - scheduler.finalCount
        var dropped = self.dropped
        if let zap { dropped["zap_denied"] = zap.deniedCount }
        let workers = sessions.values.sorted { $0.name < $1.name }.map {
            ClusterStatus.Worker(name: $0.name, host: $0.host, pid: $0.registration.pid, threads: $0.registration.threads,
                                 running: $0.leases.keys.map(\.trialID).sorted(), progress: $0.progress, notes: $0.notes, secondsSinceHeard: now.timeIntervalSince($0.lastSeen),
                                 statistics: $0.stats)
        }
        return ClusterStatus(sweep: sweep.name, counts: counts, total: scheduler.total, workers: workers, hosts: hostStatistics,
                             elapsedSeconds: elapsed, throughput: throughput,
                             etaSeconds: throughput > 0 ? Double(remaining) / throughput : nil,
                             dropped: dropped, lateResults: lateResults)
    }
}
