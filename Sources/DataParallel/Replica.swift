import Cluster
import Foundation
import Logging
import NeuralNetworks

/// One replica of a data-parallel training run: its ring endpoint and, once the ring has formed,
/// the `RingGradientReducer` its training uses. Binding comes first (`init`), so a replica can
/// tell the others where it listens before the ring forms (`join`). What trains with the
/// reducer is the caller's business (the Jobs module's `Replica.train` runs a `TrainingRun`).
public final class Replica {
    public let ring: RingCommunicator
    public let settings: DataParallelSettings
    public var rank: Int { ring.rank }
    public var endpoint: String { ring.boundEndpoint }

    /// With `securityKeys` the ring runs over CurveZMQ; the peers' public keys come to `join`.
    public init(rank: Int, worldSize: Int, bind: String, session: String, heartbeat: HeartbeatSettings = .default,
                settings: DataParallelSettings = DataParallelSettings(), securityKeys: CurveKeyPair? = nil) throws {
        try settings.validate()
        self.settings = settings
        ring = try RingCommunicator(configuration: RingConfiguration(rank: rank, worldSize: worldSize, bind: bind, session: session,
                                                                     heartbeat: heartbeat, security: securityKeys.map { RingSecurity(keys: $0) }))
    }

    /// The replica a cluster trial's lease asks for (`slot`): bound on the worker's host, its
    /// endpoint published to the coordinator, the other replicas' endpoints awaited.
    public static func joining(_ slot: ReplicaSlot, session: String, settings: DataParallelSettings = DataParallelSettings(),
                               timeout: TimeInterval = 120) throws -> (replica: Replica, endpoints: [String], publicKeys: [String]?) {
        let replica = try Replica(rank: slot.rank, worldSize: slot.worldSize, bind: "tcp://\(slot.host):*", session: session,
                                  heartbeat: slot.heartbeat, settings: settings, securityKeys: slot.keys)
        slot.publish(endpoint: replica.endpoint)
        let peers = try slot.awaitPeers(timeout: timeout)
        return (replica, peers.endpoints, peers.publicKeys)
    }

    /// Forms the ring with `endpoints` (where each rank listens), runs `body` with the reducer
    /// that averages over it, and leaves the ring. On any failure the ring is aborted, so the
    /// other replicas stop at once with this replica's reason instead of waiting out the window.
    public func withRing<T>(endpoints: [String], peerPublicKeys: [String]? = nil,
                            _ body: (GradientReducer) throws -> T) throws -> T {
        do {
            try ring.connect(endpoints: endpoints, peerPublicKeys: peerPublicKeys)
            let result = try body(RingGradientReducer(ring: ring, settings: settings))
            ClusterLog.logger("replica").debug("rank \(rank): training finished, leaving the ring")
            ring.close()
            return result
        } catch {
            ring.abort(reason: "rank \(rank): \(error)")
            throw error
        }
    }
}
