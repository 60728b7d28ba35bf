import Cluster
import DataParallel
import Foundation
import NeuralNetworks
import Study

/// A `TrainingRun` as one replica of a data-parallel run: the glue between the ring
/// (DataParallel) and training (Study), which know nothing of each other.
extension Replica {
    /// Runs `run` as this worker's replica of a data-parallel trial: binds the ring socket, meets
    /// the other replicas through the coordinator (`slot`), trains, and leaves the ring. Only
    /// rank 0 sees `report`; every replica returns the trained model (the same on all).
    public static func train(_ run: TrainingRun, in slot: ReplicaSlot, session: String,
                             settings: DataParallelSettings = DataParallelSettings(),
                             report: (TrainingEvent) throws -> Void) throws -> (model: ImageClassifier, summary: TrainingSummary) {
        let joined = try Replica.joining(slot, session: session, settings: settings)
        return try joined.replica.train(run, endpoints: joined.endpoints, peerPublicKeys: joined.publicKeys,
                                        saveTo: nil, report: slot.rank == 0 ? report : { _ in })
    }

    /// Forms the ring with `endpoints` and trains `configuration`. Only rank 0 should be given
    /// `checkpointPath` and a `report`.
    public func train(_ configuration: TrainingConfiguration, endpoints: [String], peerPublicKeys: [String]? = nil,
                      saveTo checkpointPath: String?,
                      report: (TrainingEvent) throws -> Void = { _ in }) throws -> (model: ImageClassifier, summary: TrainingSummary) {
        try train(TrainingRun(configuration), endpoints: endpoints, peerPublicKeys: peerPublicKeys, saveTo: checkpointPath, report: report)
    }

    /// The same for a prepared run (checkpoints every N steps, a resume point): its reducer is replaced.
    public func train(_ run: TrainingRun, endpoints: [String], peerPublicKeys: [String]? = nil, saveTo checkpointPath: String?,
                      report: (TrainingEvent) throws -> Void = { _ in }) throws -> (model: ImageClassifier, summary: TrainingSummary) {
        try withRing(endpoints: endpoints, peerPublicKeys: peerPublicKeys) { reducer in
            var run = run
            run.reducer = reducer
            return try run.run(saveTo: checkpointPath, report: report)
        }
    }
}
