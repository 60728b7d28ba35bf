import Cluster
import Foundation
import XCTest

/// A `replicas: 2` sweep on a real coordinator and workers: gang scheduling, the rendezvous,
/// checkpoints to the store, and a replica's worker killed mid-trial.
final class ClusterReplicaTests: XCTestCase {
    var directory: URL!
    var processes: [RTProcess] = []

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-dpc-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        for process in processes { process.kill(SIGKILL) }
        if testRun?.hasSucceeded ?? false { try? FileManager.default.removeItem(at: directory) }
    }

    let dataset = "synthetic:classes=4,channels=1,size=12,train=2000,test=256,seed=5"
    let epochs = 10

    func spawn(_ label: String, _ arguments: [String]) throws -> RTProcess {
        let process = try RTProcess(arguments, log: directory.appendingPathComponent("\(label).log"))
        processes.append(process)
        return process
    }

    func testAKilledReplicaRequeuesTheTrialWhichResumesFromItsCheckpoint() throws {
        let heartbeat = ["--heartbeat-ms", "250", "--liveness", "4"]
        let sweep = directory.appendingPathComponent("dp.yaml")
        try """
        name: dp
        retries: 2
        stages:
          - name: fit
            job: train
            replicas: 2
            parameters: {model: small-cnn, dataset: "\(dataset)", epochs: \(epochs), batch_size: 32, threads: 1, checkpoint_every: 20}
        """.write(to: sweep, atomically: true, encoding: .utf8)
        let endpoint = "ipc://\(directory.path)/c.ipc"
        let coordinator = try spawn("coordinator", ["coordinator", sweep.path, "--bind", endpoint, "--runs", directory.appendingPathComponent("runs").path] + heartbeat)
        // Three workers: the gang takes two; after one dies, the survivor and the third run the retry.
        var workers: [String: RTProcess] = [:]
        for name in ["w1", "w2", "w3"] {
            workers[name] = try spawn(name, ["worker", "--connect", endpoint, "--name", name] + heartbeat)
        }

        // Kill one replica's worker once a checkpoint is stored and the first epoch is done (mid-training).
        let status = try StatusClient(connect: endpoint)
        let storeURL = RunStore.url(runDirectory: directory.appendingPathComponent("runs/dp"))
        XCTAssertTrue(wait(timeout: 120) {
            let snapshot = (try? status.status(timeout: 1)) ?? nil
            let checkpointed = (try? RunStore(path: storeURL.path, readOnly: true).eventTimes(kinds: ["checkpoint"])["checkpoint"]) ?? nil
            return (checkpointed != nil && snapshot?.workers.contains { ($0.progress["fit-0000"] ?? 0) > 0 } ?? false) || !coordinator.isRunning
        }, "the trial never made progress:\n\(logs())")
        let running = try XCTUnwrap(status.status(timeout: 2)).workers.filter { $0.running.contains("fit-0000") }.map(\.name)
        XCTAssertEqual(running.count, 2, "two replicas hold the trial: \(running)")
        let killed = running.last!
        let killedAt = Date().timeIntervalSince1970
        workers[killed]!.kill(SIGKILL)

        XCTAssertTrue(wait(timeout: 240) { !coordinator.isRunning }, "sweep did not finish:\n\(logs())")
        XCTAssertEqual(coordinator.exitStatus, 0, logs())
        let store = try RunStore(path: storeURL.path, readOnly: true)
        let report = try store.report()
        let trial = try XCTUnwrap(report.trials.first)
        XCTAssertEqual(trial.state, "done")
        XCTAssertEqual(trial.attempts, 2, "one lost attempt, one that finished")
        let requeued = try XCTUnwrap(store.eventTimes(kinds: ["requeued"])["requeued"]?.min())
        XCTAssertLessThan(requeued - killedAt, 10, "the lost replica is noticed within the liveness window, not after a hang")

        let resumedFrom = try XCTUnwrap(trial.metrics?["resumed_from_step"]?.intValue)
        XCTAssertGreaterThanOrEqual(resumedFrom, 20, "the retry went on from a stored checkpoint")
        XCTAssertEqual(resumedFrom % 20, 0)

        // Against a run that was never interrupted (same seed, same replicas): parameters, momentum,
        // schedule and data position resume exactly (small-cnn has no batch-norm statistics), so
        // the final checkpoint is the same, byte for byte.
        let reference = try spawn("reference", ["train", "--model", "small-cnn", "--dataset", dataset, "--epochs", "\(epochs)", "--batch-size", "32",
                                                "--threads", "1", "--seed", "0", "--replicas", "2", "--json",
                                                "--output", directory.appendingPathComponent("reference.safetensors").path])
        XCTAssertTrue(wait(timeout: 240) { !reference.isRunning })
        XCTAssertEqual(reference.exitStatus, 0, reference.output)
        let summary = try XCTUnwrap(reference.output.split(separator: "\n").last { $0.contains("\"checkpoint\"") })
        let expected = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any])?["test_accuracy"] as? Double)
        XCTAssertEqual(trial.metrics?["test_accuracy"]?.doubleValue, expected, "accuracy of the resumed trial vs an uninterrupted run")
        let referenceBytes = try Data(contentsOf: directory.appendingPathComponent("reference.safetensors"))
        XCTAssertEqual(trial.artifact, SHA256.hex(referenceBytes), "the resumed trial's checkpoint is the uninterrupted run's")
        XCTAssertEqual(trial.metrics?["replicas"], .int(2))
    }

    func logs() -> String {
        processes.map { "--- \($0.log.lastPathComponent)\n" + $0.output.split(separator: "\n").suffix(15).joined(separator: "\n") }.joined(separator: "\n")
    }
}
