import Cluster
import Foundation
import Study

/// The `train` job type: one `TrainingRun` as a cluster trial. Its parameters are a
/// `TrainingConfiguration` in JSON (`model`, `dataset`, `epochs`, `batchSize`, `learningRate`, ...;
/// the trial's seed replaces `seed`), plus `bucketKB` and `checksumEvery` for data-parallel
/// stages and `checkpointEvery` (steps; default 50, 0: never). With `replicas: k` on the stage,
/// the k leases of the trial each run one replica: they bind a ring socket, meet through the
/// coordinator (`ReplicaSlot`) and train together; rank 0 returns the metrics and the final
/// checkpoint, and stores a checkpoint with the coordinator every `checkpointEvery` steps, from
/// which a requeued attempt goes on (all its replicas alike).
public struct TrainJob: JobHandler {
    public init() {}

    public func run(_ context: JobContext) throws -> JobOutcome {
        var parameters = context.parameters
        let bucketKB = parameters.removeValue(forKey: "bucketKB").flatMap(\.intValue) ?? 4096
        let checksumEvery = parameters.removeValue(forKey: "checksumEvery").flatMap(\.intValue) ?? 50
        let checkpointEvery = parameters.removeValue(forKey: "checkpointEvery").flatMap(\.intValue) ?? 50
        var configuration: TrainingConfiguration
        do {
            // The parameters override the defaults of `rt train`; `model` and `dataset` are required.
            guard case let .string(model)? = parameters["model"], case let .string(dataset)? = parameters["dataset"] else {
                throw JobError("train: parameters need \"model\" and \"dataset\" (strings)")
            }
            let defaults = try ClusterJSON.decode([String: JSONValue].self,
                                                  from: JSONEncoder().encode(TrainingConfiguration(model: model, dataset: dataset)))
            configuration = try JSONDecoder().decode(TrainingConfiguration.self, from: ClusterJSON.encode(defaults.merging(parameters) { $1 }))
        } catch let error as JobError {
            throw error
        } catch {
            throw JobError("train: parameters are not a training configuration: \(error)")
        }
        configuration.seed = UInt64(max(0, context.seed))
        let checkpoint = FileManager.default.temporaryDirectory
            .appendingPathComponent("rt-train-\(getpid())-\(context.trialID)-\(context.attempt).safetensors")
        defer { try? FileManager.default.removeItem(at: checkpoint) }
        let report: (TrainingEvent) -> Void = { event in
            if case let .epoch(summary) = event {
                context.progress(Double(summary.epoch) / Double(configuration.epochs), String(format: "epoch %d: test accuracy %.3f", summary.epoch, summary.testAccuracy ?? .nan))
            }
        }

        var run = TrainingRun(configuration)
        run.checkpointEvery = context.saveCheckpoint == nil ? 0 : max(0, checkpointEvery)
        if let save = context.saveCheckpoint { run.onCheckpoint = { bytes, step in save(bytes, step) } }
        run.resume = context.resume.map { (checkpoint: $0.bytes, step: $0.step) }

        let summary: TrainingSummary
        if let slot = context.replica {
            summary = try Replica.train(run, in: slot, session: "\(context.trialID)/\(context.attempt)",
                                        settings: DataParallelSettings(bucketBytes: bucketKB * 1024, checksumEvery: checksumEvery),
                                        saveTo: checkpoint.path, report: report).summary
            guard slot.rank == 0 else { return JobOutcome(metrics: [:]) }
        } else {
            summary = try run.run(saveTo: checkpoint.path, report: report).summary
        }
        return JobOutcome(metrics: ["test_accuracy": .double(summary.testAccuracy), "test_loss": .double(summary.testLoss),
                                    "mean_true_confidence": .double(summary.meanTrueConfidence), "seconds": .double(summary.seconds),
                                    "replicas": .int(context.replica?.worldSize ?? 1), "resumed_from_step": .int(context.resume?.step ?? 0)],
                          artifact: (name: "model.safetensors", bytes: try Data(contentsOf: checkpoint)))
    }
}
