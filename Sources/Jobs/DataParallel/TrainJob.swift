import Cluster
import DataParallel
import Foundation
import NeuralNetworks
import Study

/// The `train` job type: one `TrainingRun` as a cluster trial. Its parameters are a
/// `TrainingConfiguration` in the sweep's snake_case (`model`, `dataset`, `epochs`, `batch_size`,
/// `learning_rate`, ...; camelCase accepted; an unknown key is an error naming it; the trial's
/// seed replaces `seed`), plus `bucket_kb` and `checksum_every` for data-parallel stages and
/// `checkpoint_every` (steps; default 50, 0: never). With `replicas: k` on the stage,
/// the k leases of the trial each run one replica: they bind a ring socket, meet through the
/// coordinator (`ReplicaSlot`) and train together; rank 0 returns the metrics and the final
/// checkpoint, and stores a checkpoint with the coordinator every `checkpointEvery` steps, from
/// which a requeued attempt goes on (all its replicas alike).
public struct TrainJob: JobHandler {
    public init() {}

    public func run(_ context: JobContext) throws -> JobOutcome {
        var parameters = context.parameters
        // The job's own settings, in the sweep's snake_case (camelCase accepted).
        func take(_ snake: String, _ camel: String, default value: Int) -> Int {
            let given = parameters.removeValue(forKey: snake) ?? parameters.removeValue(forKey: camel)
            return given.flatMap(\.intValue) ?? value
        }
        let bucketKB = take("bucket_kb", "bucketKB", default: 4096)
        let checksumEvery = take("checksum_every", "checksumEvery", default: 50)
        let checkpointEvery = take("checkpoint_every", "checkpointEvery", default: 50)
        var configuration = try TrainingConfiguration.fromSweepParameters(parameters)
        configuration.seed = UInt64(max(0, context.seed))
        let report: (TrainingEvent) -> Void = { event in
            if case let .epoch(summary) = event {
                context.progress(Double(summary.epoch) / Double(configuration.epochs), String(format: "epoch %d: test accuracy %.3f", summary.epoch, summary.testAccuracy ?? .nan))
            }
        }

        var run = TrainingRun(configuration)
        run.checkpointEvery = context.saveCheckpoint == nil ? 0 : max(0, checkpointEvery)
        if let save = context.saveCheckpoint { run.onCheckpoint = { bytes, step in save(bytes, step) } }
        run.resume = context.resume.map { (checkpoint: $0.bytes, step: $0.step) }

        let (model, summary): (ImageClassifier, TrainingSummary)
        if let slot = context.replica {
            (model, summary) = try Replica.train(run, in: slot, session: "\(context.trialID)/\(context.attempt)",
                                                 settings: DataParallelSettings(bucketBytes: bucketKB * 1024, checksumEvery: checksumEvery),
                                                 report: report)
            guard slot.rank == 0 else { return JobOutcome(metrics: [:]) }
        } else {
            (model, summary) = try run.run(saveTo: nil, report: report)
        }
        let checkpoint = try Checkpoint.encode(model, extraMetadata: run.checkpointMetadata(summary))
        var metrics: [String: JSONValue] = [
            "test_accuracy": .double(summary.testAccuracy), "test_loss": .double(summary.testLoss),
            "mean_true_confidence": .double(summary.meanTrueConfidence), "seconds": .double(summary.seconds),
            "replicas": .int(context.replica?.worldSize ?? 1), "resumed_from_step": .int(context.resume?.step ?? 0)]
        // The speed of this attempt's steps and, data-parallel, how long each waited on the ring.
        metrics["steps"] = summary.steps.map(JSONValue.int)
        metrics["images_per_second"] = summary.imagesPerSecond.map(JSONValue.double)
        metrics["network_wait_ms_per_step"] = summary.networkWaitMsPerStep.map(JSONValue.double)
        metrics["allreduce_ms_per_step"] = summary.allreduceMsPerStep.map(JSONValue.double)
        return JobOutcome(metrics: metrics, artifact: (name: "model.safetensors", bytes: checkpoint))
    }
}
