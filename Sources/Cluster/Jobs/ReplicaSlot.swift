import Foundation

/// A data-parallel trial as one of its replicas sees it: its rank in the gang that runs the
/// trial together, and the rendezvous through the coordinator that tells every replica where
/// the others listen. The job binds its ring socket (on `host`), `publish`es the address, and
/// waits for everyone's (`awaitPeers`); the ring itself then runs replica to replica.
public final class ReplicaSlot: @unchecked Sendable {
    public let rank: Int
    public let worldSize: Int
    /// The address this worker's ring sockets bind to and peers reach it at (`rt worker --ring-host`).
    public let host: String
    /// The worker's CurveZMQ key pair, if it has one: the ring then runs over CurveZMQ with the
    /// peers' public keys from the rendezvous.
    public let keys: CurveKeyPair?
    public let heartbeat: HeartbeatSettings
    private let publishHandler: @Sendable (String, String?) -> Void
    private let condition = NSCondition()
    private var peers: (endpoints: [String], publicKeys: [String]?)?
    private var cancelled: String?

    init(rank: Int, worldSize: Int, host: String, keys: CurveKeyPair?, heartbeat: HeartbeatSettings,
         publish: @escaping @Sendable (String, String?) -> Void) {
        (self.rank, self.worldSize, self.host, self.keys, self.heartbeat) = (rank, worldSize, host, keys, heartbeat)
        publishHandler = publish
    }

    /// Tells the coordinator where this replica's ring socket listens.
    public func publish(endpoint: String) { publishHandler(endpoint, keys?.publicKey) }

    /// Every replica's endpoint (and public key), by rank, once the coordinator has them all.
    public func awaitPeers(timeout: TimeInterval) throws -> (endpoints: [String], publicKeys: [String]?) {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while peers == nil && cancelled == nil {
            guard condition.wait(until: deadline) else {
                throw JobError("replica \(rank) of \(worldSize): the other replicas' addresses did not arrive within \(Int(timeout)) s")
            }
        }
        if let cancelled { throw JobError("replica \(rank) of \(worldSize): \(cancelled)") }
        return peers!
    }

    func deliver(endpoints: [String], publicKeys: [String]?) {
        condition.lock()
        peers = (endpoints, publicKeys)
        condition.broadcast()
        condition.unlock()
    }

    func cancel(reason: String) {
        condition.lock()
        cancelled = reason
        condition.broadcast()
        condition.unlock()
    }
}
