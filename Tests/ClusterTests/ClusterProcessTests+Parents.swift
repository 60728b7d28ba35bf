import Foundation
import XCTest
@testable import Cluster

/// Real processes: trials with several parents, and stages appended to a finished run.
extension ClusterProcessTests {
    private var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    func testJoinAddsBothParentsSumsAndResumeAfterAKilledCoordinatorRerunsNothing() throws {
        let endpoint = harness.ipcEndpoint()
        let sweep = repository.appendingPathComponent("cluster/sweeps/toy-join.yaml")
        let first = try startCoordinator(sweep, endpoint: endpoint, label: "coordinator-1")
        for i in 1...2 { try startWorker("w\(i)", endpoint: endpoint) }
        let status = try StatusClient(connect: endpoint)
        // 12 root trials come first in lease order; past them at least one join is done.
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 30) { ((try? status.status(timeout: 1))?.counts["done"] ?? 0) >= 13 })
        first.kill(SIGKILL)
        XCTAssertNotNil(first.waitForExit(timeout: 10))
        let before = try harness.store("toy-join").report().trials.filter { $0.state == "done" }
        XCTAssertLessThan(before.count, 24, "the coordinator was killed before the end")

        let second = try startCoordinator(sweep, endpoint: endpoint, extra: ["--resume"], label: "coordinator-2")
        XCTAssertEqual(second.waitForExit(timeout: 60), 0, second.logTail())
        let report = try assertAllDoneExactlyOnce("toy-join", count: 24)
        let byID = Dictionary(uniqueKeysWithValues: report.trials.map { ($0.id, $0) })
        let store = try harness.store("toy-join")
        let joins = report.trials.filter { $0.stage == "join" }
        XCTAssertEqual(joins.count, 12)
        for join in joins {
            let parents = join.parents.compactMap { byID[$0] }
            XCTAssertEqual(parents.map(\.stage), ["left", "right"], join.id)
            XCTAssertTrue(parents.allSatisfy { $0.seed == join.seed }, join.id)
            let expected = parents.reduce(100) { $0 + ($1.metrics?["sum"]?.doubleValue ?? .nan) }
            XCTAssertEqual(join.metrics?["sum"]?.doubleValue, expected, join.id)
            let made = try XCTUnwrap(store.artifact(hash: try XCTUnwrap(join.artifact)))
            XCTAssertEqual(made.parentHash, parents.first?.artifact, "lineage records the first parent of \(join.id)")
        }
        let after = Dictionary(uniqueKeysWithValues: report.trials.map { ($0.id, $0) })
        for trial in before {
            XCTAssertEqual(after[trial.id]?.attempts, trial.attempts, "\(trial.id) was done before the kill and must not run again")
        }
        let events = try store.events()
        let resumedAt = try XCTUnwrap(events.firstIndex { $0.kind == "resumed" })
        XCTAssertTrue(Set(events[resumedAt...].filter { $0.kind == "leased" }.compactMap(\.trial)).isDisjoint(with: before.map(\.id)))
    }

    func testStagesAppendedToAFinishedRunRunToDoneWithoutRerunningTheOriginals() throws {
        let sweep = try harness.writeSweep("grow", """
            name: grow
            stages:
              - {name: base, job: sum, parameters: {artifact_bytes: 300000}, grid: {add: [1, 2, 3]}}
            """)
        let runDirectory = harness.runs.appendingPathComponent("grow").path
        func run(_ label: String, _ arguments: [String]) -> (Int32?, String) {
            guard let process = try? harness.spawn(label, ["run", "--workers", "2", "--runs", harness.runs.path, "--quiet"] + fast + arguments) else {
                return (nil, "could not start rt run")
            }
            return (process.waitForExit(timeout: 60), process.logText())
        }
        XCTAssertEqual(run("run-1", [sweep.path]).0, 0)
        let original = try harness.store("grow").report().trials

        let appendix = try harness.writeSweep("attack", """
            description: a new suite on every stored checkpoint
            stages:
              - {name: probe, job: sum, from: base, grid: {add: [1000]}}
              - {name: pair, job: sum, from: [probe, base]}
            """)
        let (code, output) = run("run-2", ["--resume-dir", runDirectory, "--append", appendix.path])
        XCTAssertEqual(code, 0, output)
        XCTAssertTrue(output.contains("appended 2 stages (12 trials)"), output)
        let report = try assertAllDoneExactlyOnce("grow", count: 3 + 3 + 9)
        let byID = Dictionary(uniqueKeysWithValues: report.trials.map { ($0.id, $0) })
        func sum(_ id: String) -> Double { byID[id]?.metrics?["sum"]?.doubleValue ?? .nan }
        for probe in report.trials where probe.stage == "probe" {
            XCTAssertEqual(sum(probe.id), sum(try XCTUnwrap(probe.parent)) + 1000, "\(probe.id) read its parent's artifact")
        }
        for pair in report.trials where pair.stage == "pair" {
            XCTAssertEqual(pair.parents.count, 2)
            XCTAssertEqual(sum(pair.id), pair.parents.map(sum).reduce(0, +), pair.id)
        }
        for trial in original { XCTAssertEqual(byID[trial.id]?.attempts, trial.attempts, "\(trial.id) did not run again") }
        let events = try harness.store("grow").events()
        let appendedAt = try XCTUnwrap(events.firstIndex { $0.kind == "stages-appended" })
        XCTAssertTrue(events[appendedAt...].filter { $0.kind == "leased" }.allSatisfy { !($0.trial ?? "").hasPrefix("base-") })

        // The same appendix again adds nothing; another definition under a taken name is refused.
        let (again, againOutput) = run("run-3", ["--resume-dir", runDirectory, "--append", appendix.path])
        XCTAssertEqual(again, 0, againOutput)
        XCTAssertTrue(againOutput.contains("appended 0 stages (0 trials), 2 already in the run"), againOutput)
        let conflicting = try harness.writeSweep("conflict", "stages:\n  - {name: probe, job: sum, from: base, grid: {add: [2000]}}\n")
        let (refused, refusal) = run("run-4", ["--resume-dir", runDirectory, "--append", conflicting.path])
        XCTAssertNotEqual(refused, 0)
        XCTAssertTrue(refusal.contains("stage \"probe\""), refusal)
        XCTAssertEqual(try harness.store("grow").report().trials.count, 15)
        XCTAssertEqual(try harness.store("grow").events().filter { $0.kind == "stages-appended" }.count, 1)

        // The sweep file the run was created from still resumes it.
        let coordinator = try startCoordinator(sweep, endpoint: harness.ipcEndpoint(), extra: ["--resume"], label: "coordinator-resume")
        XCTAssertEqual(coordinator.waitForExit(timeout: 30), 0, coordinator.logTail())
    }

    /// A worker that would read only the first parent is sent away instead of storing wrong sums.
    func testARevisionOneWorkerIsSentAwayFromARunWithSeveralParents() throws {
        let endpoint = harness.ipcEndpoint()
        let coordinator = try startCoordinator(repository.appendingPathComponent("cluster/sweeps/toy-join.yaml"), endpoint: endpoint)
        let context = try ZMQContext()
        let old = try context.socket(.dealer)
        try old.setLinger(milliseconds: 0)
        try old.connect(endpoint)
        defer { old.close() }
        let registration = RegisterMessage(workerID: "old-1", name: "old", host: "h", pid: 1, threads: 1, version: "rt-cluster/1")
        try old.send(try WireEnvelope.make(.register, registration).frames())
        try old.send(try WireEnvelope.make(.ready, ReadyMessage(slots: 1)).frames())
        var poller = ZMQPoller([old])
        var reply: WireEnvelope?
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 20) {
            guard (try? poller.poll(timeoutMilliseconds: 100))?.first == true, let message = try? old.receive(dontWait: true) else { return false }
            reply = try? WireEnvelope.decode(message.frames[...])
            return reply?.type == .shutdown || reply?.type == .lease
        })
        XCTAssertEqual(reply?.type, .shutdown, "a revision-1 worker must never get a lease here")
        XCTAssertTrue((try reply?.body(ShutdownMessage.self).reason ?? "").contains("revision"))
        XCTAssertTrue(coordinator.isRunning)
    }
}
