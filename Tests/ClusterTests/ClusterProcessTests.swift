import Foundation
import XCTest
@testable import Cluster

/// Real `rt` processes over real sockets.
final class ClusterProcessTests: ClusterProcessTestCase {
    func testHundredTrialsOverThreeWorkersAreEachDoneOnce() throws {
        let endpoint = harness.ipcEndpoint()
        let sweep = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("cluster/sweeps/toy-100.yaml")
        let coordinator = try startCoordinator(sweep, endpoint: endpoint)
        let workers = try (1...3).map { try startWorker("w\($0)", endpoint: endpoint) }

        // While it runs: `rt status --json` sees three busy workers, `rt runs list` a live run.
        let client = try StatusClient(connect: endpoint)
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 30) { ((try? client.status(timeout: 1))?.counts["done"] ?? 0) >= 10 })
        let statusProcess = try harness.spawn("status", ["status", "--connect", endpoint, "--json"])
        XCTAssertEqual(statusProcess.waitForExit(timeout: 20), 0, statusProcess.logText())
        // One line, snake_case keys (docs/CLI.md, "--json").
        XCTAssertEqual(statusProcess.logText().split(separator: "\n").count, 1, statusProcess.logText())
        XCTAssertTrue(statusProcess.logText().contains("\"elapsed_seconds\":"), statusProcess.logText())
        let snakeCase = JSONDecoder()
        snakeCase.keyDecodingStrategy = .convertFromSnakeCase
        let live = try snakeCase.decode(ClusterStatus.self, from: Data(statusProcess.logText().utf8))
        XCTAssertEqual(live.sweep, "toy-100")
        XCTAssertEqual(live.total, 100)
        XCTAssertEqual(Set(live.workers.map(\.name)), ["w1", "w2", "w3"])
        XCTAssertEqual(live.hosts.values.reduce(0) { $0 + $1.done }, live.counts["done"] ?? -1)
        let runsProcess = try harness.spawn("runs", ["runs", "list", "--runs", harness.runs.path])
        XCTAssertEqual(runsProcess.waitForExit(timeout: 20), 0)
        XCTAssertTrue(runsProcess.logText().contains("toy-100") && runsProcess.logText().contains("live at \(endpoint)"), runsProcess.logText())

        XCTAssertEqual(coordinator.waitForExit(timeout: 60), 0, coordinator.logTail())
        let report = try assertAllDoneExactlyOnce("toy-100", count: 100)
        XCTAssertTrue(report.trials.allSatisfy { $0.attempts == 1 }, "no trial should need a second lease")
        XCTAssertEqual(Set(report.trials.compactMap(\.worker)), ["w1", "w2", "w3"], "all three workers took trials")
        XCTAssertEqual(report.workers.values.reduce(0) { $0 + $1.done }, 100)
        XCTAssertEqual(report.hosts.values.reduce(0) { $0 + $1.done }, 100)
        for worker in workers { XCTAssertEqual(worker.waitForExit(timeout: 10), 0, "workers exit cleanly on shutdown: \(worker.logTail())") }

        // rt report --format trials-json prints the documented SweepReport shape.
        let reportProcess = try harness.spawn("report", ["report", harness.runs.appendingPathComponent("toy-100").path, "--format", "trials-json"])
        XCTAssertEqual(reportProcess.waitForExit(timeout: 20), 0)
        let json = try JSONSerialization.jsonObject(with: Data(reportProcess.logText().utf8)) as? [String: Any]
        XCTAssertEqual(json?["sweep"] as? String, "toy-100")
        let first = try XCTUnwrap((json?["trials"] as? [[String: Any]])?.first)
        for key in ["id", "stage", "parameters", "state", "attempts", "worker", "metrics"] { XCTAssertNotNil(first[key], key) }
    }

    /// A gang of 2 that finds one worker busy waits while single trials behind it go on; after
    /// `--gang-reservation` the freed worker is held for it, so a stream of short trials does not
    /// starve it: it runs as soon as the long trial ends, with most short trials still to come.
    func testWaitingGangGetsWorkersHeldInsteadOfStarving() throws {
        let endpoint = harness.ipcEndpoint()
        let sweep = try harness.writeSweep("gang-wait", """
            name: gang-wait
            stages:
              - name: hog
                job: sleep
                parameters: {seconds: 3}
              - name: pair
                job: sleep
                replicas: 2
                parameters: {seconds: 0.2}
              - name: solo
                job: sleep
                parameters: {seconds: 0.3}
                grid: {index: {range: [0, 40]}}
            """)
        let coordinator = try startCoordinator(sweep, endpoint: endpoint, extra: ["--gang-reservation", "1"])
        try startWorker("w1", endpoint: endpoint)
        try startWorker("w2", endpoint: endpoint)
        XCTAssertEqual(coordinator.waitForExit(timeout: 90), 0, coordinator.logTail())
        _ = try assertAllDoneExactlyOnce("gang-wait", count: 42)
        let events = try harness.store("gang-wait").events()
        XCTAssertTrue(events.contains { $0.kind == "gang_reserved" && $0.trial == "pair-0000" }, "\(events.map(\.kind))")
        let pairDone = try XCTUnwrap(events.first { $0.kind == "done" && $0.trial == "pair-0000" }?.at)
        let soloDoneAfter = events.filter { $0.kind == "done" && ($0.trial ?? "").hasPrefix("solo") && $0.at > pairDone }.count
        XCTAssertGreaterThanOrEqual(soloDoneAfter, 20, "the gang ran before most short trials, not after them")
    }

    func testKilledWorkersTrialIsRequeuedAndDoneOnce() throws {
        let endpoint = harness.ipcEndpoint()
        let sweep = try sleepSweep("kill-worker", trials: 24, seconds: 0.5)
        let coordinator = try startCoordinator(sweep, endpoint: endpoint)
        let victim = try startWorker("victim", endpoint: endpoint)
        try startWorker("w2", endpoint: endpoint)
        try startWorker("w3", endpoint: endpoint)
        let status = try StatusClient(connect: endpoint)
        var held: [String] = []
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 30) {
            let snapshot = try? status.status(timeout: 1)
            held = snapshot?.workers.first { $0.name == "victim" }?.running ?? []
            return !held.isEmpty && (snapshot?.counts["done"] ?? 0) >= 2
        }, "the victim never held a lease")
        victim.kill(SIGKILL)
        XCTAssertEqual(coordinator.waitForExit(timeout: 60), 0, coordinator.logTail())
        let report = try assertAllDoneExactlyOnce("kill-worker", count: 24)
        let requeued = try harness.store("kill-worker").events().filter { $0.kind == "requeued" }
        XCTAssertFalse(requeued.isEmpty, "the victim's lease must be requeued")
        XCTAssertTrue(requeued.allSatisfy { $0.detail.contains("victim") }, "\(requeued)")
        let retried = report.trials.filter { $0.attempts > 1 }
        XCTAssertFalse(retried.isEmpty)
        XCTAssertTrue(retried.allSatisfy { $0.attempts == 2 && $0.worker != "victim" }, "\(retried.map { ($0.id, $0.attempts, $0.worker) })")
        XCTAssertTrue(Set(retried.map(\.id)).isSubset(of: Set(requeued.compactMap(\.trial))))
    }

    func testCoordinatorKilledMidSweepResumesWithNothingLostOrRepeated() throws {
        let endpoint = harness.ipcEndpoint()
        let sweep = try sleepSweep("resume", trials: 60, seconds: 0.15)
        let first = try startCoordinator(sweep, endpoint: endpoint, label: "coordinator-1")
        for i in 1...3 { try startWorker("w\(i)", endpoint: endpoint) }
        let status = try StatusClient(connect: endpoint)
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 30) { ((try? status.status(timeout: 1))?.counts["done"] ?? 0) >= 15 })
        first.kill(SIGKILL)
        XCTAssertNotNil(first.waitForExit(timeout: 10))

        // What the killed coordinator had committed.
        let before = try harness.store("resume").report().trials.filter { $0.state == "done" }
        XCTAssertGreaterThanOrEqual(before.count, 15)
        XCTAssertLessThan(before.count, 60, "the coordinator was killed before the end")

        let second = try startCoordinator(sweep, endpoint: endpoint, extra: ["--resume"], label: "coordinator-2")
        XCTAssertEqual(second.waitForExit(timeout: 60), 0, second.logTail())
        let report = try assertAllDoneExactlyOnce("resume", count: 60)
        let after = Dictionary(uniqueKeysWithValues: report.trials.map { ($0.id, $0) })
        for trial in before {
            XCTAssertEqual(after[trial.id]?.metrics, trial.metrics)
            XCTAssertEqual(after[trial.id]?.attempts, trial.attempts, "\(trial.id) was done before the kill and must not run again")
        }
        let events = try harness.store("resume").events()
        let resumedAt = try XCTUnwrap(events.firstIndex { $0.kind == "resumed" })
        let leasedAfter = Set(events[resumedAt...].filter { $0.kind == "leased" }.compactMap(\.trial))
        XCTAssertTrue(leasedAfter.isDisjoint(with: before.map(\.id)), "nothing done before the kill is leased again")
    }

    /// The same with a DAG: artifacts in flight when the coordinator dies are uploaded again,
    /// stored ones are served to dependants after the restart, lineage intact.
    func testResumedDAGKeepsArtifactsAndLineage() throws {
        let endpoint = harness.ipcEndpoint()
        let sweep = try harness.writeSweep("dag-resume", """
            name: dag-resume
            stages:
              - name: base
                job: sum
                parameters: {artifact_bytes: 1500000, delay: 0.3}
                grid: {add: {range: [0, 10]}}
              - {name: child, job: sum, from: base, parameters: {delay: 0.1}, grid: {add: [100, 200]}}
            """)
        let first = try startCoordinator(sweep, endpoint: endpoint, label: "coordinator-1")
        for i in 1...3 { try startWorker("w\(i)", endpoint: endpoint) }
        let status = try StatusClient(connect: endpoint)
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 30) { ((try? status.status(timeout: 1))?.counts["done"] ?? 0) >= 6 })
        first.kill(SIGKILL)
        XCTAssertNotNil(first.waitForExit(timeout: 10))
        let second = try startCoordinator(sweep, endpoint: endpoint, extra: ["--resume"], label: "coordinator-2")
        XCTAssertEqual(second.waitForExit(timeout: 60), 0, second.logTail())

        let report = try assertAllDoneExactlyOnce("dag-resume", count: 30)
        let store = try harness.store("dag-resume")
        let byID = Dictionary(uniqueKeysWithValues: report.trials.map { ($0.id, $0) })
        for child in report.trials where child.stage == "child" {
            let parent = try XCTUnwrap(byID[child.parent ?? ""])
            let expected = (parent.metrics?["sum"]?.doubleValue ?? -1) + (child.parameters["add"]?.doubleValue ?? -1)
            XCTAssertEqual(child.metrics?["sum"]?.doubleValue, expected, child.id)
            let made = try XCTUnwrap(store.artifact(hash: try XCTUnwrap(child.artifact)))
            XCTAssertEqual(made.parentHash, parent.artifact, "lineage of \(child.id)")
        }
        for base in report.trials where base.stage == "base" {
            let made = try XCTUnwrap(store.artifact(hash: try XCTUnwrap(base.artifact)))
            XCTAssertEqual(made.reference.size, 1_500_000)
            XCTAssertEqual(SHA256.hex(try Data(contentsOf: URL(fileURLWithPath: made.path))), made.reference.hash)
        }
    }

    func testWorkerWithoutAnAllowListedKeyNeverGetsALease() throws {
        let keys = harness.directory.appendingPathComponent("keys")
        for name in ["coordinator", "friend", "stranger"] {
            let generate = try harness.spawn("keys-\(name)", ["keys", "generate", "--output", keys.appendingPathComponent(name).path])
            XCTAssertEqual(generate.waitForExit(timeout: 20), 0)
        }
        let allow = keys.appendingPathComponent("allow")
        try FileManager.default.createDirectory(at: allow, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: keys.appendingPathComponent("friend/public.key"), to: allow.appendingPathComponent("friend.key"))
        for name in ["friend", "stranger"] {
            try FileManager.default.copyItem(at: keys.appendingPathComponent("coordinator/public.key"),
                                             to: keys.appendingPathComponent("\(name)/coordinator.key"))
        }
        let sweep = try sleepSweep("curve", trials: 20, seconds: 0.1)
        let coordinator = try startCoordinator(sweep, endpoint: "tcp://127.0.0.1:*",
                                               extra: ["--keys", keys.appendingPathComponent("coordinator").path, "--allow", allow.path])
        let endpoint = try harness.coordinatorInfo("curve").endpoint
        let stranger = try startWorker("stranger", endpoint: endpoint, extra: ["--keys", keys.appendingPathComponent("stranger").path])
        // A worker with no keys at all cannot talk to a CURVE coordinator either.
        let plain = try startWorker("plain", endpoint: endpoint)
        Thread.sleep(forTimeInterval: 1)
        try startWorker("friend", endpoint: endpoint, extra: ["--keys", keys.appendingPathComponent("friend").path])
        XCTAssertEqual(coordinator.waitForExit(timeout: 60), 0, coordinator.logTail())
        let report = try assertAllDoneExactlyOnce("curve", count: 20)
        XCTAssertEqual(Set(report.trials.compactMap(\.worker)), ["friend"])
        let leasedTo = Set(try harness.store("curve").events().filter { $0.kind == "leased" || $0.kind == "worker-registered" }.compactMap(\.worker))
        XCTAssertEqual(leasedTo, ["friend"])
        XCTAssertTrue(coordinator.logText().contains("not allow-listed"), "the denial is logged with the peer")
        XCTAssertTrue(stranger.isRunning && plain.isRunning, "locked-out workers keep knocking; they are never admitted")
    }

    func testTenThousandGarbledFramesDoNotStopTheSweep() throws {
        let endpoint = harness.ipcEndpoint()
        let sweep = try sleepSweep("garbage", trials: 40, seconds: 0.1)
        let coordinator = try startCoordinator(sweep, endpoint: endpoint)
        try startWorker("w1", endpoint: endpoint)
        try startWorker("w2", endpoint: endpoint)

        let context = try ZMQContext()
        let attacker = try context.socket(.dealer)
        try attacker.setLinger(milliseconds: 0)
        try attacker.setSendHighWaterMark(20_000)
        try attacker.connect(endpoint)
        var generator = SplitMix64(seed: 2024)
        func bytes(_ n: Int) -> Data { Data((0..<n).map { _ in UInt8(truncatingIfNeeded: generator.next()) }) }
        for i in 0..<10_000 {
            let frames: [Data]
            switch i % 8 {
            case 0: frames = (0..<Int(generator.next() % 5 + 1)).map { _ in bytes(Int(generator.next() % 64)) }   // noise
            case 1: frames = [WireEnvelope.header(type: .result, requestID: 1, lengths: [3], version: 9), Data("{}x".utf8)] // other version
            case 2: frames = [Data(WireEnvelope.header(type: .ready, requestID: 1, lengths: [4]).prefix(Int(generator.next() % 14)))] // truncated
            case 3: frames = [WireEnvelope.header(type: .result, requestID: 1, lengths: [99]), Data("{}".utf8)] // length lie
            case 4: frames = WireEnvelope(type: .result, payload: [bytes(30)]).frames()      // garbage body
            case 5: frames = WireEnvelope(type: .lease, payload: [Data("{}".utf8)]).frames() // wrong direction
            case 6: // a result for an unknown trial, or for a lease of a real trial that was never issued
                frames = (try WireEnvelope.make(.result, ResultMessage(trialID: i % 16 == 6 ? "nap-9999" : "nap-0001", attempt: 50,
                                                                       metrics: ["forged": .bool(true)], artifact: nil,
                                                                       maskNames: [], seconds: 0))).frames()
            default: frames = (try WireEnvelope.make(.failure, FailureMessage(trialID: "nap-0000", attempt: 77, reason: "forged"))).frames()
            }
            try attacker.send(frames)
        }
        let status = try StatusClient(connect: endpoint)
        var snapshot: ClusterStatus?
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 30) {
            snapshot = try? status.status(timeout: 1)
            return (snapshot?.dropped.values.reduce(0, +) ?? 0) >= 8_750
        }, "dropped so far: \(String(describing: snapshot?.dropped))")
        for reason in ["malformed", "wrong_version", "bad_payload", "wrong_direction"] {
            XCTAssertGreaterThan(snapshot?.dropped[reason] ?? 0, 0, "\(reason): \(String(describing: snapshot?.dropped))")
        }
        XCTAssertEqual(coordinator.waitForExit(timeout: 60), 0, coordinator.logTail())
        let report = try assertAllDoneExactlyOnce("garbage", count: 40)
        XCTAssertTrue(report.trials.allSatisfy { $0.attempts == 1 }, "forged failures for stale leases change nothing")
        XCTAssertTrue(report.trials.allSatisfy { $0.metrics?["forged"] == nil }, "forged results are never stored")
        attacker.close()
    }

    func testLateResultFromAPresumedDeadWorkerIsAcceptedOnce() throws {
        let endpoint = harness.ipcEndpoint()
        let sweep = try sleepSweep("late", trials: 2, seconds: 3)
        let coordinator = try startCoordinator(sweep, endpoint: endpoint)
        let sleepy = try startWorker("sleepy", endpoint: endpoint)
        let status = try StatusClient(connect: endpoint)
        var trial: String?
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 30) {
            trial = (try? status.status(timeout: 1))?.workers.first { $0.name == "sleepy" }?.running.first
            return trial != nil
        })
        let late = try XCTUnwrap(trial)
        // Two slots: one for the other trial, one free for the re-lease of `late`. Given with the
        // deprecated spelling --threads, which still works and says what it is now.
        let w2 = try startWorker("w2", endpoint: endpoint, extra: ["--threads", "2"])
        Thread.sleep(forTimeInterval: 0.3)
        sleepy.kill(SIGSTOP) // silent but alive: its connection stays open
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 30) {
            ((try? self.harness.store("late").events(trialID: late)) ?? []).contains { $0.kind == "requeued" }
        }, "the silent worker's lease was never requeued")
        sleepy.kill(SIGCONT) // wakes with attempt 1 almost finished; w2 has just started attempt 2
        XCTAssertEqual(coordinator.waitForExit(timeout: 60), 0, coordinator.logTail())
        let report = try assertAllDoneExactlyOnce("late", count: 2)
        let record = try XCTUnwrap(report.trials.first { $0.id == late })
        XCTAssertEqual(record.attempts, 2)
        XCTAssertEqual(record.worker, "sleepy", "the late result of attempt 1 arrived first and was accepted")
        XCTAssertTrue(coordinator.logText().contains("late result for \(late) attempt 1 from sleepy accepted"), coordinator.logText())
        XCTAssertTrue(w2.logText().contains("rt worker --threads 2: deprecated spelling of --concurrency 2"), w2.logText())
        XCTAssertTrue(coordinator.logText().contains("worker w2 registered") && coordinator.logText().contains("up to 2 trials at once"), coordinator.logText())
    }

    func testLocalRunRetriesFailuresAndExitsNonZeroWhenATrialFails() throws {
        let sweep = try harness.writeSweep("toy-failures", """
            name: toy-failures
            retries: 1
            stages:
              - {name: flaky, job: fail-once, grid: {i: [1, 2, 3]}}
              - {name: crash-once, job: crash, parameters: {crash_attempts: 1}}
              - {name: doomed, job: crash}
              - name: base
                job: sum
                parameters: {artifact_bytes: 2500000}
                grid: {values: [[1, 2], [3]]}
              - {name: child, job: sum, from: base, grid: {add: [10, 20]}}
            """)
        let run = try harness.spawn("run", ["run", sweep.path, "--workers", "4", "--runs", harness.runs.path, "--quiet"] + fast)
        let code = run.waitForExit(timeout: 90)
        XCTAssertNotNil(code)
        XCTAssertNotEqual(code, 0, "a failed trial makes rt run fail")
        let report = try harness.store("toy-failures").report()
        let byID = Dictionary(uniqueKeysWithValues: report.trials.map { ($0.id, $0) })
        for i in 0..<3 { XCTAssertEqual(byID["flaky-000\(i)"]?.state, "done"); XCTAssertEqual(byID["flaky-000\(i)"]?.attempts, 2) }
        XCTAssertEqual(byID["crash-once-0000"]?.state, "done")
        XCTAssertEqual(byID["crash-once-0000"]?.attempts, 2)
        XCTAssertEqual(byID["doomed-0000"]?.state, "failed")
        XCTAssertTrue(byID["doomed-0000"]?.failure?.contains("retry budget") ?? false, "\(String(describing: byID["doomed-0000"]?.failure))")
        // Children consumed their parent's 2.5 MB artifact (chunked, hash-checked both ways).
        XCTAssertEqual(byID["child-0000"]?.metrics?["sum"]?.doubleValue, 13)
        XCTAssertEqual(byID["child-0001"]?.metrics?["sum"]?.doubleValue, 23)
        XCTAssertEqual(byID["child-0003"]?.metrics?["sum"]?.doubleValue, 23)
        XCTAssertEqual(try harness.store("toy-failures").masks(trialID: "base-0000"), ["positive": Data([1, 1])])
    }

    func testSweepErrorsNameFileLineAndKeyAndInsecureBindIsRefused() throws {
        let bad = try harness.writeSweep("bad", "name: bad\nstages:\n  - name: a\n    job: sleep\n    grid:\n      lr: 0.1\n")
        let coordinator = try startCoordinator(bad, endpoint: harness.ipcEndpoint())
        XCTAssertNotEqual(coordinator.waitForExit(timeout: 20), 0)
        XCTAssertTrue(coordinator.logText().contains("bad.yaml:6:"), coordinator.logText())
        XCTAssertTrue(coordinator.logText().contains("stages[0].grid.lr"), coordinator.logText())

        let good = try sleepSweep("open", trials: 1, seconds: 0)
        let open = try startCoordinator(good, endpoint: "tcp://0.0.0.0:0", label: "insecure")
        XCTAssertNotEqual(open.waitForExit(timeout: 20), 0)
        XCTAssertTrue(open.logText().contains("--insecure"), open.logText())
    }
}
