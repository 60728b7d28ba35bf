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
        return try Replica.train(run, in: slot, session: "\(context.trialID)/\(context.attempt)", saveTo: checkpointPath, report: report)
    }
}
