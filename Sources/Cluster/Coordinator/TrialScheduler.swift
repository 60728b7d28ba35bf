import Foundation

/// The in-memory view of the trial DAG the coordinator leases from. The store stays the
/// truth; this is rebuilt from it at start (and on --resume) and updated after each commit.
///
/// A trial with several parents (`from: [a, b]`) waits on each of them: it is listed under
/// every parent that is not final yet, becomes ready when the last one is done with an
/// artifact, and is doomed by the first that fails or finishes without one.
struct TrialScheduler {
    private(set) var records: [String: TrialRecord] = [:]
    /// Ready pending trials by job type, each queue in rank order: trials that became ready
    /// count up (expansion order), requeued ones count down (they waited longest), so
    /// the lowest rank across the queues is the trial one queue would have at its front.
    private var ready: [String: ReadyQueue] = [:]
    private var lastRank = 0
    private var firstRank = 0
    private var waitingOn: [String: [String]] = [:]   // parent id -> children waiting for its artifact
    private(set) var finalCount = 0

    /// What finishing a parent means for the trials that waited on it.
    struct Released: Equatable {
        /// Every parent is now done with an artifact: leasable.
        var ready: [String] = []
        /// Can never run, with the reason (naming the parent at fault).
        var doomed: [Doomed] = []
    }

    struct Doomed: Equatable {
        var id: String
        var reason: String
    }

    /// Builds the view. Trials that can never run are reported by `doomed()`.
    init(records list: [TrialRecord]) {
        for record in list { records[record.spec.id] = record }
        finalCount = list.filter { $0.state == .done || $0.state == .failed }.count
        for record in list.sorted(by: { $0.spec.order < $1.spec.order }) where record.state == .pending {
            let unfinished = record.spec.parentTrialIDs.filter { !isFinal($0) }
            for parent in unfinished { waitingOn[parent, default: []].append(record.spec.id) }
            if unfinished.isEmpty && blocker(of: record) == nil { appendReady(record.spec.id) }
        }
    }

    var total: Int { records.count }
    var isFinished: Bool { finalCount == records.count }
    var hasReady: Bool { ready.values.contains { !$0.isEmpty } }

    /// Whether any trial has more than one parent (leases then need protocol revision 2).
    var hasSeveralParents: Bool { records.values.contains { $0.spec.parentTrialIDs.count > 1 } }

    /// Pending trials with a parent that failed or finished without an artifact: the caller fails them.
    func doomed() -> [Doomed] {
        records.values.filter { $0.state == .pending }.compactMap { record in
            blocker(of: record).map { Doomed(id: record.spec.id, reason: $0) }
        }.sorted { $0.id < $1.id }
    }

    /// The longest-waiting ready trial whose job type is in `jobs` (nil: any job type).
    mutating func popReady(runnableBy jobs: Set<String>? = nil) -> TrialRecord? {
        // Each turn removes one queued id, so this ends.
        while true {
            var best: (job: String, rank: Int)?
            for (job, queue) in ready where jobs?.contains(job) ?? true {
                if let first = queue.first, first.rank < best?.rank ?? .max { best = (job, first.rank) }
            }
            guard let best else { return nil }
            let id = ready[best.job]!.removeFirst()
            if let record = records[id], record.state == .pending { return record }
        }
    }

    /// A trial popped but not leased after all (e.g. the worker vanished): put it back first.
    mutating func pushFront(_ id: String) {
        guard let job = records[id]?.spec.job else { return }
        firstRank -= 1
        ready[job, default: ReadyQueue()].pushFront(id, rank: firstRank)
    }

    private mutating func appendReady(_ id: String) {
        guard let job = records[id]?.spec.job else { return }
        lastRank += 1
        ready[job, default: ReadyQueue()].append(id, rank: lastRank)
    }

    /// The stages that still have trials to run, by job type: what the workers must offer.
    func unfinishedStages() -> [String: Set<String>] {
        var stages: [String: Set<String>] = [:]
        for record in records.values where record.state == .pending || record.state == .leased {
            stages[record.spec.job, default: []].insert(record.spec.stage)
        }
        return stages
    }

    /// The pending trials of `stage`, in expansion order.
    func pendingTrials(ofStage stage: String) -> [String] {
        records.values.filter { $0.spec.stage == stage && $0.state == .pending }.sorted { $0.spec.order < $1.spec.order }.map(\.spec.id)
    }

    func record(_ id: String) -> TrialRecord? { records[id] }

    mutating func markLeased(_ id: String, attempt: Int, worker: String, host: String) {
        records[id]?.state = .leased
        records[id]?.attempts = attempt
        records[id]?.worker = worker
        records[id]?.host = host
    }

    /// Returns the children that became ready and those that can now never run (no artifact).
    @discardableResult
    mutating func markDone(_ id: String, worker: String, host: String, artifactHash: String?) -> Released {
        guard let state = records[id]?.state, state != .done, state != .failed else { return Released() }
        records[id]?.state = .done
        records[id]?.worker = worker
        records[id]?.host = host
        records[id]?.artifactHash = artifactHash
        finalCount += 1
        var released = Released()
        for child in waitingOn.removeValue(forKey: id) ?? [] {
            guard let record = records[child], record.state == .pending else { continue }
            if let reason = blocker(of: record) {
                released.doomed.append(Doomed(id: child, reason: reason))
            } else if record.spec.parentTrialIDs.allSatisfy({ records[$0]?.state == .done }) {
                appendReady(child)
                released.ready.append(child)
            }
        }
        return released
    }

    mutating func markPending(_ id: String, reason: String) {
        guard records[id]?.state == .leased else { return }
        records[id]?.state = .pending
        records[id]?.failureReason = reason
        pushFront(id)
    }

    /// Returns the waiting children still pending, which can now never run.
    mutating func markFailed(_ id: String, reason: String) -> [String] {
        guard let state = records[id]?.state, state != .done, state != .failed else { return [] }
        records[id]?.state = .failed
        records[id]?.failureReason = reason
        finalCount += 1
        return (waitingOn.removeValue(forKey: id) ?? []).filter { records[$0]?.state == .pending }
    }

    private func isFinal(_ id: String) -> Bool {
        records[id]?.state == .done || records[id]?.state == .failed
    }

    /// Why `record` can never run: the first parent (in `from:` order) that failed, finished
    /// without an artifact, or is not in the store at all. nil while it still can.
    private func blocker(of record: TrialRecord) -> String? {
        for parentID in record.spec.parentTrialIDs {
            guard let parent = records[parentID] else { return "parent trial \(parentID) is not in the store" }
            if parent.state == .failed { return "parent trial \(parentID) failed" }
            if parent.state == .done && parent.artifactHash == nil { return "parent trial \(parentID) produced no artifact" }
        }
        return nil
    }

    func counts() -> [TrialState: Int] {
        var counts: [TrialState: Int] = [:]
        for record in records.values { counts[record.state, default: 0] += 1 }
        return counts
    }
}
