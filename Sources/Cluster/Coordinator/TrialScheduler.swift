import Foundation

/// The in-memory view of the trial DAG the coordinator leases from. The store stays the
/// truth; this is rebuilt from it at start (and on --resume) and updated after each commit.
///
/// A trial with several parents (`from: [a, b]`) waits on each of them: it is listed under
/// every parent that is not final yet, becomes ready when the last one is done with an
/// artifact, and is doomed by the first that fails or finishes without one.
struct TrialScheduler {
    private(set) var records: [String: TrialRecord] = [:]
    /// Ready pending trials in expansion order (requeued ones go to the front: they waited longest).
    private var ready: [String] = []
    private var readyHead = 0
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
            if unfinished.isEmpty && blocker(of: record) == nil { ready.append(record.spec.id) }
        }
    }

    var total: Int { records.count }
    var isFinished: Bool { finalCount == records.count }
    var hasReady: Bool { readyHead < ready.count }

    /// Whether any trial has more than one parent (leases then need protocol revision 2).
    var hasSeveralParents: Bool { records.values.contains { $0.spec.parentTrialIDs.count > 1 } }

    /// Pending trials with a parent that failed or finished without an artifact: the caller fails them.
    func doomed() -> [Doomed] {
        records.values.filter { $0.state == .pending }.compactMap { record in
            blocker(of: record).map { Doomed(id: record.spec.id, reason: $0) }
        }.sorted { $0.id < $1.id }
    }

    mutating func popReady() -> TrialRecord? {
        while readyHead < ready.count {
            let id = ready[readyHead]
            readyHead += 1
            if readyHead > 1024 && readyHead * 2 > ready.count { ready.removeFirst(readyHead); readyHead = 0 }
            if let record = records[id], record.state == .pending { return record }
        }
        return nil
    }

    /// A trial popped but not leased after all (e.g. the worker vanished): put it back first.
    mutating func pushFront(_ id: String) {
        if readyHead > 0 { readyHead -= 1; ready[readyHead] = id } else { ready.insert(id, at: 0) }
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
                ready.append(child)
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
