import Cluster
import Foundation
import Study

/// The `train` job type: one `TrainingRun` as a cluster trial. Its parameters are a
/// `TrainingConfiguration` in JSON (`model`, `dataset`, `epochs`, `batchSize`, `learningRate`, ...;
/// the trial's seed replaces `seed`), plus `bucketKB` and `checksumEvery` for data-parallel
/// stages. With `replicas: k` on the stage, the k leases of the trial each run one replica:
/// they bind a ring socket, meet through the coordinator (`ReplicaSlot`) and train together;
/// rank 0 returns the metrics and the checkpoint.
public struct TrainJob: JobHandler {
    public init() {}

    public func run(_ context: JobContext) throws -> JobOutcome {
        var parameters = context.parameters
        let bucketKB = parameters.removeValue(forKey: "bucketKB").flatMap(\.intValue) ?? 4096
        let checksumEvery = parameters.removeValue(forKey: "checksumEvery").flatMap(\.intValue) ?? 50
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
                context.progress(Double(summary.epoch) / Double(configuration.epochs), String(format: "epoch %d: test accuracy %.3f", summary.epoch, summary.testAccuracy))
            }
        }

        let summary: TrainingSummary
        if let slot = context.replica {
            let replica = try Replica(rank: slot.rank, worldSize: slot.worldSize, bind: "tcp://\(slot.host):*",
                                      session: "\(context.trialID)/\(context.attempt)", heartbeat: slot.heartbeat,
                                      settings: DataParallelSettings(bucketBytes: bucketKB * 1024, checksumEvery: checksumEvery),
                                      securityKeys: slot.keys)
            slot.publish(endpoint: replica.endpoint)
            let peers = try slot.awaitPeers(timeout: 120)
            summary = try replica.train(configuration, endpoints: peers.endpoints, peerPublicKeys: peers.publicKeys,
                                        saveTo: slot.rank == 0 ? checkpoint.path : nil, report: slot.rank == 0 ? report : { _ in }).summary
            guard slot.rank == 0 else { return JobOutcome(metrics: [:]) }
        } else {
            summary = try TrainingRun(configuration).run(saveTo: checkpoint.path, report: report).summary
        }
        return JobOutcome(metrics: ["test_accuracy": .double(summary.testAccuracy), "test_loss": .double(summary.testLoss),
                                    "mean_true_confidence": .double(summary.meanTrueConfidence), "seconds": .double(summary.seconds),
                                    "replicas": .int(context.replica?.worldSize ?? 1)],
                          artifact: (name: "model.safetensors", bytes: try Data(contentsOf: checkpoint)))
    }
}
