import Cluster
import Foundation
import NeuralNetworks
import Study

/// One replica of a data-parallel training run: its ring endpoint, and the run itself with a
/// `RingGradientReducer`. Binding comes first (`init`), so a replica can tell the others where
/// it listens before the ring forms (`train`).
public final class Replica {
    public let ring: RingCommunicator
    public let settings: DataParallelSettings
    public var rank: Int { ring.rank }
    public var endpoint: String { ring.boundEndpoint }

    /// With `securityKeys` the ring runs over CurveZMQ; the peers' public keys come to `train`.
    public init(rank: Int, worldSize: Int, bind: String, session: String, heartbeat: HeartbeatSettings = .default,
                settings: DataParallelSettings = DataParallelSettings(), securityKeys: CurveKeyPair? = nil) throws {
        try settings.validate()
        self.settings = settings
        ring = try RingCommunicator(configuration: RingConfiguration(rank: rank, worldSize: worldSize, bind: bind, session: session,
                                                                     heartbeat: heartbeat, security: securityKeys.map { RingSecurity(keys: $0) }))
    }

    /// Runs `run` as this worker's replica of a data-parallel trial: binds the ring socket, meets
    /// the other replicas through the coordinator (`slot`), trains, and leaves the ring. Only
    /// rank 0 keeps the checkpoint and sees `report`.
    public static func train(_ run: TrainingRun, in slot: ReplicaSlot, session: String,
                             settings: DataParallelSettings = DataParallelSettings(), saveTo checkpointPath: String,
                             report: (TrainingEvent) throws -> Void) throws -> (model: ImageClassifier, summary: TrainingSummary) {
        let replica = try Replica(rank: slot.rank, worldSize: slot.worldSize, bind: "tcp://\(slot.host):*", session: session,
                                  heartbeat: slot.heartbeat, settings: settings, securityKeys: slot.keys)
        slot.publish(endpoint: replica.endpoint)
        let peers = try slot.awaitPeers(timeout: 120)
        return try replica.train(run, endpoints: peers.endpoints, peerPublicKeys: peers.publicKeys,
                                 saveTo: slot.rank == 0 ? checkpointPath : nil, report: slot.rank == 0 ? report : { _ in })
    }

    /// Forms the ring with `endpoints` (where each rank listens) and trains. Only rank 0 should
    /// be given `checkpointPath` and a `report`. On any failure the ring is aborted, so the
    /// other replicas stop at once with this replica's reason instead of waiting out the window.
    public func train(_ configuration: TrainingConfiguration, endpoints: [String], peerPublicKeys: [String]? = nil,
                      saveTo checkpointPath: String?,
                      report: (TrainingEvent) throws -> Void = { _ in }) throws -> (model: ImageClassifier, summary: TrainingSummary) {
        try train(TrainingRun(configuration), endpoints: endpoints, peerPublicKeys: peerPublicKeys, saveTo: checkpointPath, report: report)
    }

    /// The same for a prepared run (checkpoints every N steps, a resume point): its reducer is replaced.
    public func train(_ run: TrainingRun, endpoints: [String], peerPublicKeys: [String]? = nil, saveTo checkpointPath: String?,
                      report: (TrainingEvent) throws -> Void = { _ in }) throws -> (model: ImageClassifier, summary: TrainingSummary) {
        var run = run
        do {
            try ring.connect(endpoints: endpoints, peerPublicKeys: peerPublicKeys)
            run.reducer = RingGradientReducer(ring: ring, settings: settings)
            let result = try run.run(saveTo: checkpointPath, report: report)
            ClusterLog.shared.log(.debug, "replica", "rank \(rank): training finished, leaving the ring")
            ring.close()
            return result
        } catch {
            ring.abort(reason: "rank \(rank): \(error)")
            throw error
        }
    }
}
