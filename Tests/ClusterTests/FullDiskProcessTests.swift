import Foundation
import XCTest
@testable import Cluster

/// A run directory on a disk that fills up mid-sweep (a real tmpfs, so root only): the
/// coordinator says so once, stops leasing, hands the running trials back with their attempts,
/// exits with status 4 and the command that continues; nothing stored is lost or broken, and
/// once there is space again `--resume` finishes the sweep with every trial done exactly once.
final class FullDiskProcessTests: ClusterProcessTestCase {
    private var mounted = false

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard getuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let mount = ShellCommand(command: "mount -t tmpfs -o size=3m tmpfs '\(harness.runs.path)'", timeout: 20).run()
        guard mount.status == 0 else { throw XCTSkip("cannot mount a tmpfs here: \(mount.text)") }
        mounted = true
    }

    override func tearDown() {
        super.tearDown()
        if mounted { _ = ShellCommand(command: "umount -l '\(harness.runs.path)'", timeout: 20).run() }
    }

    func testAFullDiskStopsTheRunOnceAndResumeFinishesItWhenSpaceReturns() throws {
        // Seven 700 kB artifacts do not fit in 3 MB (with the store beside them).
        let sweep = try harness.writeSweep("full", """
            name: full
            seeds: [1, 2, 3, 4, 5, 6, 7]
            retries: 0
            stages:
              - {name: big, job: sum, parameters: {artifact_bytes: 700000}}
            """)
        let endpoint = harness.ipcEndpoint()
        let coordinator = try startCoordinator(sweep, endpoint: endpoint, extra: ["--stop-grace", "5"])
        let worker = try startWorker("filler", endpoint: endpoint)
        XCTAssertEqual(coordinator.waitForExit(timeout: 90), 4, coordinator.logText())
        XCTAssertNotNil(worker.waitForExit(timeout: 20), "the worker leaves when the coordinator stops: \(worker.logText())")
        let log = coordinator.logText()
        XCTAssertEqual(log.components(separatedBy: "out of space under").count - 1, 1, "said once: \(log)")
        XCTAssertTrue(log.contains("No space left on device") || log.contains("enough space") || log.contains("full"), log)
        XCTAssertTrue(log.contains("--resume"), "it says how to continue: \(log)")
        XCTAssertFalse(log.contains("Fatal error"), log)
        XCTAssertFalse(StopProcessTests.isRunning(coordinator.pid) || StopProcessTests.isRunning(worker.pid))

        // Consistent: nothing failed (the lost attempts were given back), every done trial's artifact is whole.
        let store = try harness.store("full")
        let first = try store.report()
        XCTAssertEqual(first.counts["failed"], nil, "\(first.counts)")
        let done = first.trials.filter { $0.state == TrialState.done.rawValue }
        XCTAssertLessThan(done.count, 7, "the disk was meant to fill: \(first.counts)")
        for trial in done {
            let hash = try XCTUnwrap(trial.artifact, trial.id)
            let data = try Data(contentsOf: harness.runs.appendingPathComponent("full/artifacts/\(hash)"))
            XCTAssertEqual(SHA256.hex(data), hash, "\(trial.id)'s artifact is whole")
        }
        let attempts = Dictionary(uniqueKeysWithValues: done.map { ($0.id, $0.attempts) })

        // Space returns; the run goes on from where it stopped.
        XCTAssertEqual(ShellCommand(command: "mount -o remount,size=24m '\(harness.runs.path)'", timeout: 20).run().status, 0)
        let resumed = try startCoordinator(sweep, endpoint: endpoint, extra: ["--resume"], label: "resumed")
        try startWorker("after", endpoint: endpoint)
        XCTAssertEqual(resumed.waitForExit(timeout: 90), 0, resumed.logText())
        try assertAllDoneExactlyOnce("full", count: 7)
        let final = try harness.store("full").report()
        for (id, attempt) in attempts { XCTAssertEqual(final.trials.first { $0.id == id }?.attempts, attempt, "\(id) was not run again") }
    }

    /// The store is what fills: the disk is filled up once the coordinator has written the
    /// sweep, before any worker comes. The first commit that cannot be written stops the run,
    /// said once (not on every poll), exit 4; once the filler is gone, `--resume` finishes it.
    func testAStoreThatCannotGrowStopsTheRunOnceAndResumes() throws {
        let sweep = try sleepSweep("storefull", trials: 20, seconds: 0.05, retries: 0)
        let endpoint = harness.ipcEndpoint()
        let coordinator = try startCoordinator(sweep, endpoint: endpoint, extra: ["--stop-grace", "3"])
        _ = try harness.coordinatorInfo("storefull")
        let filler = harness.runs.appendingPathComponent("filler")
        _ = ShellCommand(command: "dd if=/dev/zero of='\(filler.path)' bs=4k 2>&1", timeout: 30).run() // ends with ENOSPC
        XCTAssertEqual(ShellCommand(command: "df --output=avail -B1 '\(harness.runs.path)' | tail -1", timeout: 10).run().output
            .trimmingCharacters(in: .whitespacesAndNewlines), "0", "the disk is full")
        let worker = try startWorker("late", endpoint: endpoint)
        XCTAssertEqual(coordinator.waitForExit(timeout: 60), 4, coordinator.logText())
        XCTAssertNotNil(worker.waitForExit(timeout: 20), worker.logText())
        let log = coordinator.logText()
        XCTAssertEqual(log.components(separatedBy: "out of space under").count - 1, 1, "said once: \(log)")
        XCTAssertTrue(log.contains("database or disk is full"), log)
        XCTAssertLessThan(log.components(separatedBy: "database or disk is full").count - 1, 4, "not said on every poll: \(log)")
        XCTAssertFalse(log.contains("Fatal error"), log)
        XCTAssertEqual(try harness.store("storefull").report().counts["failed"], nil)

        try FileManager.default.removeItem(at: filler)
        let resumed = try startCoordinator(sweep, endpoint: endpoint, extra: ["--resume"], label: "resumed")
        try startWorker("after", endpoint: endpoint)
        XCTAssertEqual(resumed.waitForExit(timeout: 90), 0, resumed.logText())
        try assertAllDoneExactlyOnce("storefull", count: 20)
    }
}
