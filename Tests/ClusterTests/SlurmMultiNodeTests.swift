import Foundation
import XCTest
@testable import Cluster

/// rt.sbatch across two Slurm nodes: slurmctld and two slurmd's, each on its own network
/// namespace host with its own NodeAddr (scripts/cluster/slurm-local.sh, slurm_multi_start).
/// The coordinator runs on the first node; the worker on the second dials it at that node's
/// NodeAddr. Needs root; skipped (with the reason) otherwise.
final class SlurmMultiNodeTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let library = repository.appendingPathComponent("scripts/cluster/slurm-local.sh").path
    static var slurmDirectory: URL?
    static var skipReason: String?
    var directory: URL!

    override class func setUp() {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rt-slurm-multi-\(getpid())")
        let up = ShellCommand(command: "source \(ShellCommand.quoted(library)) && slurm_multi_start \(ShellCommand.quoted(dir.path)) 2", timeout: 600).run()
        if up.status == 0 { slurmDirectory = dir } else {
            skipReason = up.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if up.status != 77 { stop(dir) }
        }
    }

    override class func tearDown() {
        if let dir = slurmDirectory { stop(dir) }
    }

    static func stop(_ dir: URL) {
        _ = ShellCommand(command: "source \(ShellCommand.quoted(library)) && export SLURM_CONF=\(ShellCommand.quoted(dir.path))/slurm.conf SLURM_LOCAL_DIR=\(ShellCommand.quoted(dir.path)) && slurm_multi_stop").run()
        if ProcessInfo.processInfo.environment["RT_KEEP_SLURM"] == nil { try? FileManager.default.removeItem(at: dir) }
    }

    override func setUpWithError() throws {
        guard Self.slurmDirectory != nil else { throw XCTSkip(Self.skipReason ?? "no Slurm") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-slurm-multi-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if (testRun?.failureCount ?? 0) > 0 {
            print(controller("tail -n 30 rt-*.out slurm-jobs/*/*.log").output)
            print("test files kept in \(directory.path)")
        } else if let directory {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// COMMAND on the controller's host, from the test directory.
    @discardableResult
    func controller(_ command: String) -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["SLURM_CONF"] = Self.slurmDirectory!.appendingPathComponent("slurm.conf").path
        environment["SLURM_LOCAL_DIR"] = Self.slurmDirectory!.path
        environment["RT_BINARY"] = try? ProcessHarness.rtBinary().path
        let outcome = ShellCommand(command: "source \(ShellCommand.quoted(Self.library)) && slurm_multi_ctl bash -c \(ShellCommand.quoted(command))",
                                   environment: environment, directory: directory, timeout: 60).run()
        return (outcome.status, outcome.text)
    }

    func jobState(_ job: String) -> String? {
        controller("scontrol show job \(job)").output.split(whereSeparator: { $0 == " " || $0 == "\n" })
            .first { $0.hasPrefix("JobState=") }.map { String($0.dropFirst("JobState=".count)) }
    }

    func testOneJobOnTwoNodesSharesTheSweepAcrossThem() throws {
        let sweep = directory.appendingPathComponent("spread.yaml")
        try SweepText.sleep("spread", trials: 20, seconds: 0.3, retries: 0).write(to: sweep, atomically: true, encoding: .utf8)
        let script = Self.repository.appendingPathComponent("cluster/slurm/rt.sbatch").path
        let submitted = controller("sbatch --parsable --nodes=2 --ntasks-per-node=1 '\(script)' '\(sweep.path)'")
        XCTAssertEqual(submitted.status, 0, submitted.output)
        let job = try XCTUnwrap(submitted.output.split(separator: "\n").last.map { String($0.split(separator: ";")[0]) })
        var state: String?
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 120) {
            state = self.jobState(job)
            return ["COMPLETED", "FAILED", "CANCELLED"].contains(state ?? "")
        }, "job \(job) is \(state ?? "?")")
        XCTAssertEqual(state, "COMPLETED")
        let store = try RunStore(path: RunStore.url(runDirectory: directory.appendingPathComponent("runs/spread")).path, readOnly: true)
        let report = try StoreChecks.assertAllDoneExactlyOnce(store, count: 20)
        var hostsByWorker: [String: Set<String>] = [:]
        for trial in report.trials { hostsByWorker[trial.worker ?? "", default: []].insert(trial.host ?? "") }
        XCTAssertEqual(hostsByWorker, ["slurm-\(job)-0": ["node1"], "slurm-\(job)-1": ["node2"]], "one worker per node, each ran trials")
        let info = try JSONDecoder().decode(CoordinatorInfo.self, from: Data(contentsOf: directory.appendingPathComponent("runs/spread/coordinator.json")))
        XCTAssertEqual(info.endpoint, "tcp://10.213.0.2:\(20000 + Int(job)! % 30000)", "the first node's NodeAddr")
    }
}
