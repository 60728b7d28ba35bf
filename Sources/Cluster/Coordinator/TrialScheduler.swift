import Foundation

/// The in-memory view of the trial DAG the coordinator leases from. The store stays the
/// truth; this is rebuilt from it at start (and on --resume) and updated after each commit.
struct TrialScheduler {
    private(set) var records: [String: TrialRecord] = [:]
    /// Ready pending trials in expansion order (requeued ones go to the front: they waited longest).
    private var ready: [String] = []
    private var readyHead = 0
    private var waitingOn: [String: [String]] = [:]   // parent id -> children waiting for its artifact
    private(set) var finalCount = 0

    /// Builds the view; returns trials that can never run (parent failed / produced nothing) with the reason.
    init(records list: [TrialRecord]) {
        for record in list { records[record.spec.id] = record }
        finalCount = list.filter { $0.state == .done || $0.state == .failed }.count
        for record in list.sorted(by: { $0.spec.order < $1.spec.order }) where record.state == .pending {
            enqueueIfReady(record.spec.id)
        }
    }

    var total: Int { records.count }
    var isFinished: Bool { finalCount == records.count }
    var hasReady: Bool { readyHead < ready.count }

    /// Pending trials whose parent failed or finished without an artifact: the caller fails them.
    func doomed() -> [(String, String)] {
        records.values.filter { $0.state == .pending }.compactMap { record in
            guard let parentID = record.spec.parentTrialID, let parent = records[parentID] else { return nil }
            if parent.state == .failed { return (record.spec.id, "parent trial \(parentID) failed") }
            if parent.state == .done && parent.artifactHash == nil { return (record.spec.id, "parent trial \(parentID) produced no artifact") }
            return nil
        }.sorted { $0.0 < $1.0 }
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

    /// Returns the children that became ready.
    @discardableResult
    mutating func markDone(_ id: String, worker: String, host: String, artifactHash: String?) -> [String] {
        guard let state = records[id]?.state, state != .done, state != .failed else { return [] }
        records[id]?.state = .done
        records[id]?.worker = worker
        records[id]?.host = host
        records[id]?.artifactHash = artifactHash
        finalCount += 1
        let children = waitingOn.removeValue(forKey: id) ?? []
        for child in children { enqueueIfReady(child) }
        return children
    }

    mutating func markPending(_ id: String, reason: String) {
        guard records[id]?.state == .leased else { return }
        records[id]?.state = .pending
        records[id]?.failureReason = reason
        pushFront(id)
    }

    /// Returns the waiting children, which can now never run.
    mutating func markFailed(_ id: String, reason: String) -> [String] {
        guard let state = records[id]?.state, state != .done, state != .failed else { return [] }
        records[id]?.state = .failed
        records[id]?.failureReason = reason
        finalCount += 1
        return waitingOn.removeValue(forKey: id) ?? []
    }

    private mutating func enqueueIfReady(_ id: String) {
        guard let record = records[id] else { return }
        if let parentID = record.spec.parentTrialID {
            guard let parent = records[parentID], parent.state == .done, parent.artifactHash != nil else {
                if records[parentID]?.state != .done && records[parentID]?.state != .failed {
                    waitingOn[parentID, default: []].append(id)
                }
                return
            }
        }
        ready.append(id)
    }

    func counts() -> [TrialState: Int] {
        var counts: [TrialState: Int] = [:]
        for record in records.values { counts[record.state, default: 0] += 1 }
        return counts
    }
}
