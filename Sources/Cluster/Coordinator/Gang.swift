import Foundation

/// The lease of a data-parallel trial (`replicas:` k > 1): k workers run it together, one
/// replica each. Leased all at once or not at all; the replicas' ring addresses are collected
/// here and sent to all of them when complete (the rendezvous). The trial's result comes from
/// rank 0; if any replica fails or its worker is lost, the whole gang's lease ends.
struct Gang {
    var key: LeaseKey
    /// Routing ids of the members' workers, by rank.
    var members: [Data]
    var endpoints: [String?]
    var publicKeys: [String?]

    init(key: LeaseKey, members: [Data]) {
        self.key = key
        self.members = members
        endpoints = Array(repeating: nil, count: members.count)
        publicKeys = Array(repeating: nil, count: members.count)
    }

    /// The peers message, once every replica has said where it listens.
    var peers: RingPeersMessage? {
        guard endpoints.allSatisfy({ $0 != nil }) else { return nil }
        let keys = publicKeys.allSatisfy { $0 != nil } ? publicKeys.map { $0! } : nil
        return RingPeersMessage(trialID: key.trialID, attempt: key.attempt, endpoints: endpoints.map { $0! }, publicKeys: keys)
    }
}

extension TrialScheduler {
    /// Workers for a gang of `size` running `job`: distinct sessions that run it with a free
    /// slot, in round-robin order starting at `first`; nil if there are not enough (the gang
    /// waits, single trials go on).
    static func gangMembers(_ size: Int, job: String, first: Data, order: [Data], sessions: [Data: WorkerSession]) -> [WorkerSession]? {
        let start = order.firstIndex(of: first) ?? 0
        let rotated = order[start...] + order[..<start]
        let free = rotated.compactMap { sessions[$0] }.filter { $0.credits > 0 && $0.runs(job) }
        return free.count >= size ? Array(free.prefix(size)) : nil
    }
}
