import Foundation

/// The capabilities the coordinator hands out with its leases. A report on a lease (progress,
/// checkpoint, artifact chunks, result, failure) counts only with that lease's token, so a
/// peer that does not hold the lease, registered or not, can neither end it nor forge its
/// result. Tokens outlive their lease on purpose: a worker presumed dead that delivers after
/// all still holds a valid one (the store keeps the result once). They live in memory only, so
/// a lease from before a coordinator restart cannot report to its successor (it was requeued).
///
/// Also what each lease may fetch (its parents' artifacts and the checkpoint it resumes
/// from), whether its worker ever said the trial started, and how often a trial came back from
/// workers that never started it.
struct LeaseTokens {
    private var tokens: [LeaseKey: String] = [:]
    private var fetchable: [LeaseKey: Set<String>] = [:]
    private var started: Set<LeaseKey> = []
    private var returnedUnstarted: [String: Int] = [:]

    /// How often a trial may come back from a worker that died before saying it started,
    /// without spending its retry budget. Bounded, so a job that kills its worker before the
    /// first word still fails in the end.
    static let freeReturnsPerTrial = 2

    /// A new lease's token (128 random bits, hex).
    mutating func issue(_ key: LeaseKey, fetches hashes: Set<String>) -> String {
        var generator = SystemRandomNumberGenerator()
        let token = (0..<2).map { _ in String(generator.next() as UInt64, radix: 16).leftPadded(to: 16) }.joined()
        tokens[key] = token
        fetchable[key] = hashes
        return token
    }

    func verifies(_ key: LeaseKey, token: String) -> Bool { tokens[key] == token }

    /// True when one of `leases` needs `hash`.
    func needs<Leases: Sequence>(_ hash: String, anyOf leases: Leases) -> Bool where Leases.Element == LeaseKey {
        leases.contains { fetchable[$0]?.contains(hash) == true }
    }

    mutating func markStarted(_ key: LeaseKey) { started.insert(key) }

    func wasStarted(_ key: LeaseKey) -> Bool { started.contains(key) }

    /// A lease whose worker vanished before starting it: true (and counted) while the trial has
    /// free returns left.
    mutating func takeFreeReturn(_ trialID: String) -> Bool {
        let used = returnedUnstarted[trialID, default: 0]
        guard used < Self.freeReturnsPerTrial else { return false }
        returnedUnstarted[trialID] = used + 1
        return true
    }

    /// The lease is over: nothing more to fetch for it (its token stays, see above).
    mutating func end(_ key: LeaseKey) {
        fetchable[key] = nil
        started.remove(key)
    }
}

private extension String {
    func leftPadded(to length: Int) -> String { count >= length ? self : String(repeating: "0", count: length - count) + self }
}
