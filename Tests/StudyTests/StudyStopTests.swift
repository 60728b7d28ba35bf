import Cluster
import Foundation
import XCTest

/// Ctrl-C (SIGINT) of `rt study` while a role trains: exit 130 with the command that continues;
/// that command finishes the study, the interrupted trial going on from the snapshot it stored,
/// and every trial is done exactly once.
final class StudyStopTests: XCTestCase {
    static let sweep = """
        name: stop-study
        seeds: [1]
        retries: 0
        defaults:
          study: &study
            model: small-cnn
            source: {dataset: "synthetic:classes=4,channels=1,size=28,train=2400,test=200,seed=9", classes: 0-1, epochs: 1}
            target: {dataset: "synthetic:classes=4,channels=1,size=28,train=2400,test=200,seed=9", classes: 2-3, per_class: 500, epochs: 10}
            batch_size: 32
            attack_examples: 20
            attacks:
              - {attack: fgsm, eps: [8/255]}
        stages:
          - {name: pretrain, job: pretrain, parameters: *study}
          - {name: standard, job: standard, parameters: *study}
          - {name: finetune, job: finetune, from: pretrain, parameters: *study}
        """

    func testInterruptedStudyResumesFromItsSnapshots() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-study-stop-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sweepURL = directory.appendingPathComponent("stop-study.yaml")
        try Self.sweep.write(to: sweepURL, atomically: true, encoding: .utf8)
        let runs = directory.appendingPathComponent("runs")
        let runDirectory = runs.appendingPathComponent("stop-study")

        let log = directory.appendingPathComponent("study.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let study = Process()
        study.executableURL = try RTProcess.binary()
        study.arguments = ["study", sweepURL.path, "--workers", "2", "--runs", runs.path, "--quiet"]
        study.currentDirectoryURL = directory
        study.standardOutput = try FileHandle(forWritingTo: log)
        study.standardError = study.standardOutput
        try study.run()
        defer { if study.isRunning { kill(study.processIdentifier, SIGKILL) } }
        func output() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        // Wait until a role is well into its training (progress is 70% training, 30% measuring).
        var endpoint: String?
        let deadline = Date().addingTimeInterval(120)
        var training = false
        while Date() < deadline && study.isRunning && !training {
            if endpoint == nil, let data = try? Data(contentsOf: runDirectory.appendingPathComponent(CoordinatorInfo.fileName)) {
                endpoint = try? ClusterJSON.decode(CoordinatorInfo.self, from: data).endpoint
            }
            if let endpoint, let status = try? StatusClient(connect: endpoint).status(timeout: 1) {
                training = status.workers.contains { worker in
                    worker.progress.contains { ["standard-0000", "finetune-0000"].contains($0.key) && $0.value > 0.1 && $0.value < 0.5 }
                }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertTrue(training, "no role seen training: \(output())")
        kill(study.processIdentifier, SIGINT)
        study.waitUntilExit()
        XCTAssertEqual(study.terminationStatus, 130, output())
        let line = try XCTUnwrap(output().split(separator: "\n").first { $0.contains("continue with: ") }, output())
        let command = String(line[line.range(of: "continue with: ")!.upperBound...])
        XCTAssertTrue(command.hasSuffix("--resume"), command)

        let stored = try RunStore(path: RunStore.url(runDirectory: runDirectory).path, readOnly: true)
        let snapshots = try stored.events().filter { $0.kind == "checkpoint" }
        XCTAssertFalse(snapshots.isEmpty, "the interrupted role stored a snapshot: \(output())")

        // The printed command, as a user pastes it into a shell.
        let (status, resumedOutput) = try RTProcess.run(["/bin/sh", "-c", command], in: directory, executable: URL(fileURLWithPath: "/usr/bin/env"))
        XCTAssertEqual(status, 0, resumedOutput)
        let store = try RunStore(path: RunStore.url(runDirectory: runDirectory).path, readOnly: true)
        let report = try store.report()
        XCTAssertEqual(report.counts, ["done": 3], resumedOutput)
        var done: [String: Int] = [:]
        for event in try store.events() where event.kind == "done" { done[event.trial ?? "", default: 0] += 1 }
        XCTAssertEqual(done, ["pretrain-0000": 1, "standard-0000": 1, "finetune-0000": 1])
        let resumes = try store.events().filter { $0.kind == "resumes" }
        XCTAssertFalse(resumes.isEmpty)
        for event in resumes {
            let trial = try XCTUnwrap(report.trials.first { $0.id == event.trial })
            let step = try XCTUnwrap(trial.metrics?["resumed_from_step"]?.intValue, trial.id)
            XCTAssertGreaterThan(step, 0, "\(trial.id) went on from its snapshot")
            XCTAssertTrue(event.detail.hasSuffix("step \(step)"), event.detail)
        }
    }
}
