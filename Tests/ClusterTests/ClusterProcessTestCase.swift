import Foundation
import XCTest
@testable import Cluster

/// Tests that run real `rt` processes: a `ProcessHarness` per test (every process it started
/// is killed in tearDown, the logs printed on failure), fast heartbeats, and the checks the
/// store makes possible. Heartbeats every 200 ms and a 1 s liveness window find failures fast,
/// yet a process starved for a few hundred ms on a busy 2-core machine is not declared dead.
class ClusterProcessTestCase: XCTestCase {
    var harness: ProcessHarness!
    let fast = ["--heartbeat-ms", "200", "--liveness", "5"]

    override func setUpWithError() throws {
        _ = try ProcessHarness.rtBinary()
        harness = try ProcessHarness(testName: name.filter { $0.isLetter || $0.isNumber })
    }

    override func tearDown() {
        let failed = (testRun?.failureCount ?? 0) > 0
        if failed { print(harness.logs()); print("test files kept in \(harness.directory.path)") }
        harness.tearDown(keepOnFailure: failed)
    }

    func startCoordinator(_ sweep: URL, endpoint: String, extra: [String] = [], label: String = "coordinator") throws -> SpawnedProcess {
        try harness.spawn(label, ["coordinator", sweep.path, "--bind", endpoint, "--runs", harness.runs.path] + fast + extra)
    }

    @discardableResult
    func startWorker(_ name: String, endpoint: String, extra: [String] = []) throws -> SpawnedProcess {
        try harness.spawn(name, ["worker", "--connect", endpoint, "--name", name] + fast + extra)
    }

    /// A sweep of `trials` runs of the `sleep` toy job, written next to the test's runs.
    func sleepSweep(_ name: String, trials: Int, seconds: Double, retries: Int = 2) throws -> URL {
        try harness.writeSweep(name, SweepText.sleep(name, trials: trials, seconds: seconds, retries: retries))
    }

    /// Every trial done, with exactly one `done` event each.
    @discardableResult
    func assertAllDoneExactlyOnce(_ sweep: String, count: Int, file: StaticString = #filePath, line: UInt = #line) throws -> SweepReport {
        try StoreChecks.assertAllDoneExactlyOnce(try harness.store(sweep), count: count, context: harness.logs(), file: file, line: line)
    }
}

enum SweepText {
    static func sleep(_ name: String, trials: Int, seconds: Double, retries: Int) -> String {
        """
        name: \(name)
        retries: \(retries)
        stages:
          - name: nap
            job: sleep
            parameters: {seconds: \(seconds)}
            grid: {index: {range: [0, \(trials)]}}
        """
    }
}

enum StoreChecks {
    /// Every trial done, with exactly one `done` event each: nothing lost, nothing done twice.
    @discardableResult
    static func assertAllDoneExactlyOnce(_ store: RunStore, count: Int, context: @autoclosure () -> String = "",
                                         file: StaticString = #filePath, line: UInt = #line) throws -> SweepReport {
        let report = try store.report()
        XCTAssertEqual(report.trials.count, count, file: file, line: line)
        XCTAssertEqual(report.counts, ["done": count], context(), file: file, line: line)
        var done: [String: Int] = [:]
        for event in try store.events() where event.kind == "done" { done[event.trial ?? "", default: 0] += 1 }
        XCTAssertEqual(done.count, count, file: file, line: line)
        XCTAssertTrue(done.values.allSatisfy { $0 == 1 }, "done twice: \(done.filter { $0.value != 1 })", file: file, line: line)
        return report
    }
}
