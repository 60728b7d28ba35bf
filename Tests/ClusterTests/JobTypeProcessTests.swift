import Foundation
import XCTest
@testable import Cluster

/// Workers list the job types they run when they register (protocol revision 4); the
/// coordinator leases each only those, and a stage whose job no registered worker runs fails
/// without a lease once `--job-type-wait` has passed, saying so once (issue 13).
final class JobTypeProcessTests: ClusterProcessTestCase {
    /// `job: nosuchjob` against a real worker: its trials and their dependants fail, none was
    /// leased (no attempt, no retry budget spent), the other stage runs, and the reason names
    /// the stage, the job type and what the worker runs.
    func testAStageNoWorkerRunsFailsWithoutALeaseAndIsSaidOnce() throws {
        let sweep = try harness.writeSweep("unrunnable", """
            name: unrunnable
            retries: 2
            stages:
              - {name: a, job: sum, grid: {add: [1, 2, 3]}}
              - {name: b, job: nosuchjob, grid: {i: [1, 2]}}
              - {name: c, job: sum, from: b}
            """)
        let endpoint = harness.ipcEndpoint()
        let coordinator = try startCoordinator(sweep, endpoint: endpoint, extra: ["--job-type-wait", "0"])
        try startWorker("only", endpoint: endpoint, extra: ["--jobs", "sum,sleep"])
        XCTAssertEqual(coordinator.waitForExit(timeout: 60), 3, "some trials failed: \(coordinator.logTail())")

        let report = try harness.store("unrunnable").report()
        XCTAssertEqual(report.trials.filter { $0.stage == "a" }.map(\.state), ["done", "done", "done"])
        for trial in report.trials where trial.stage == "b" {
            XCTAssertEqual(trial.state, "failed", trial.id)
            XCTAssertEqual(trial.attempts, 0, "\(trial.id) was never leased")
            XCTAssertEqual(trial.failure, "stage b needs job 'nosuchjob', which no registered worker runs (only runs sleep, sum)")
        }
        let children = report.trials.filter { $0.stage == "c" }
        XCTAssertFalse(children.isEmpty)
        for child in children {
            XCTAssertEqual(child.state, "failed", child.id)
            XCTAssertEqual(child.attempts, 0, child.id)
        }
        let leasedB = try harness.store("unrunnable").events().filter { $0.kind == "leased" && ($0.trial ?? "").hasPrefix("b-") }
        XCTAssertEqual(leasedB.count, 0, "no lease of a job nobody runs")
        let log = coordinator.logText()
        XCTAssertEqual(log.components(separatedBy: "which no registered worker runs").count - 1, 1, "said once: \(log)")
        XCTAssertFalse(log.contains("no handler for job type"), "the worker never got a trial it cannot run")
    }

    /// Two workers that run different job types: the first to register lacks `sum`, which is
    /// said once; the second runs it and registers within the wait. Each trial goes only to the
    /// worker that runs its job, at its first attempt, and nothing fails.
    func testHeterogeneousWorkersGetOnlyTheirJobTypes() throws {
        let sweep = try harness.writeSweep("mixed", """
            name: mixed
            retries: 0
            stages:
              - {name: nap, job: sleep, parameters: {seconds: 0.1}, grid: {i: {range: [0, 6]}}}
              - {name: add, job: sum, grid: {add: [1, 2, 3, 4]}}
            """)
        let endpoint = harness.ipcEndpoint()
        let coordinator = try startCoordinator(sweep, endpoint: endpoint, extra: ["--job-type-wait", "120"])
        try startWorker("sleeper", endpoint: endpoint, extra: ["--jobs", "sleep", "--threads", "2"])
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 30) {
            coordinator.logText().contains("stage add needs job 'sum', which no registered worker runs (sleeper runs sleep)")
        }, coordinator.logText())
        try startWorker("adder", endpoint: endpoint, extra: ["--jobs", "sum"])
        XCTAssertEqual(coordinator.waitForExit(timeout: 60), 0, coordinator.logTail())

        let report = try assertAllDoneExactlyOnce("mixed", count: 10)
        for trial in report.trials {
            XCTAssertEqual(trial.worker, trial.stage == "nap" ? "sleeper" : "adder", trial.id)
            XCTAssertEqual(trial.attempts, 1, trial.id)
        }
        let log = coordinator.logText()
        XCTAssertTrue(log.contains("job 'sum' is run by worker adder"), log)
        XCTAssertEqual(log.components(separatedBy: "which no registered worker runs").count - 1, 1, "said once: \(log)")
    }
}
