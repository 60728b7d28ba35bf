import Cluster
import Foundation
import NeuralNetworks
import Study

/// The study's roles as data-parallel trials: a role's stage with `replicas: k` trains as k
/// replicas joined by the ring all-reduce, exactly as the `train` job does (default buckets and
/// checksums); rank 0 keeps the checkpoint and, in `StudyTrial`, measures the model. A requeued
/// attempt starts its training over (study roles keep no mid-trial checkpoints).
public enum StudyReplica {
    public static func train(_ context: JobContext, _ run: TrainingRun, _ checkpointPath: String,
                             _ report: (TrainingEvent) throws -> Void) throws -> (model: ImageClassifier, summary: TrainingSummary) {
        guard let slot = context.replica else { return try run.run(saveTo: checkpointPath, report: report) }
        let replica = try Replica(rank: slot.rank, worldSize: slot.worldSize, bind: "tcp://\(slot.host):*",
                                  session: "\(context.trialID)/\(context.attempt)", heartbeat: slot.heartbeat,
                                  securityKeys: slot.keys)
        slot.publish(endpoint: replica.endpoint)
        let peers = try slot.awaitPeers(timeout: 120)
        return try replica.train(run, endpoints: peers.endpoints, peerPublicKeys: peers.publicKeys,
                                 saveTo: slot.rank == 0 ? checkpointPath : nil, report: slot.rank == 0 ? report : { _ in })
    }
}
