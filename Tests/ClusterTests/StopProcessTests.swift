import Foundation
import XCTest
@testable import Cluster

/// The edges a user and a scheduler hit: Ctrl-C at a terminal, SIGTERM then SIGKILL, a second
/// coordinator started by mistake, a coordinator the OOM killer takes. After each: by pid,
/// nothing of the run is left running; by the store, nothing was lost or done twice.
final class StopProcessTests: ClusterProcessTestCase {
    private func run(_ sweep: URL, _ label: String, extra: [String] = []) throws -> SpawnedProcess {
        try harness.spawn(label, ["run", sweep.path, "--workers", "2", "--runs", harness.runs.path, "--quiet"] + fast + extra)
    }

    private func doneCount(_ sweep: String) -> Int {
        ((try? harness.store(sweep).counts()) ?? [:])[.done] ?? 0
    }

    /// The coordinator (from its info file) and every worker that registered since `events`
    /// (from the store's registrations, which name the pid).
    private func processesOfRun(_ sweep: String, afterEvent events: Int) throws -> [Int32] {
        let coordinator = try harness.coordinatorInfo(sweep).pid
        let workers = try harness.store(sweep).events().dropFirst(events).filter { $0.kind == "worker-registered" }.compactMap { event in
            event.detail.split(separator: " ").last.flatMap { Int32($0) }
        }
        return [coordinator] + workers
    }

    /// Alive and not a zombie waiting for a reaper.
    static func isRunning(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    /// SIGINT, SIGTERM and SIGKILL of `rt run`, one after the other on the same run: each time no
    /// process of the run is alive 3 s later; the first two exit 130 and 143 and print the
    /// command that continues; the run then finishes with every trial done once, the
    /// interrupted ones with their attempt given back (retries: 0, yet nothing failed).
    func testSignalsToRunLeaveNothingRunningAndLoseNothing() throws {
        let sweep = try sleepSweep("stop", trials: 24, seconds: 1, retries: 0)
        var doneBefore = 0
        for (round, signal) in [SIGINT, SIGTERM, SIGKILL].enumerated() {
            let eventsBefore = (try? harness.store("stop").events().count) ?? 0
            let run = try run(sweep, "run-\(round)", extra: round == 0 ? [] : ["--resume"])
            XCTAssertTrue(ProcessHarness.waitUntil(timeout: 60) { self.doneCount("stop") >= doneBefore + 2 }, harness.logs())
            // Both workers registered with this run's coordinator, each busy with a 1 s trial.
            var pids: [Int32] = []
            XCTAssertTrue(ProcessHarness.waitUntil(timeout: 20) {
                pids = (try? self.processesOfRun("stop", afterEvent: eventsBefore)) ?? []
                return pids.count == 3
            }, "coordinator and 2 workers of round \(round): \(pids)")
            run.kill(signal)
            XCTAssertTrue(ProcessHarness.waitUntil(timeout: 3) { !run.isRunning && !pids.contains(where: Self.isRunning) },
                          "still running 3 s after \(SignalExit.name(signal)): \(pids.filter(Self.isRunning)) of \(pids)")
            let status = run.waitForExit(timeout: 1)
            if signal == SIGKILL {
                XCTAssertEqual(run.process.terminationReason, .uncaughtSignal)
            } else {
                XCTAssertEqual(status, SignalExit.status(signal), run.logText())
                XCTAssertTrue(run.logText().contains("stopped by \(SignalExit.name(signal))"), run.logText())
                XCTAssertTrue(run.logText().contains("continue with: ") && run.logText().contains("--resume"), run.logText())
            }
            doneBefore = doneCount("stop")
            XCTAssertLessThan(doneBefore, 24, "interrupted before the end")
        }
        let last = try run(sweep, "run-final", extra: ["--resume"])
        XCTAssertEqual(last.waitForExit(timeout: 90), 0, last.logText())
        try assertAllDoneExactlyOnce("stop", count: 24)
        let events = try harness.store("stop").events()
        XCTAssertEqual(events.filter { $0.kind == "stopped" }.count, 3, "each stop is recorded, SIGKILL's too (its children stop on SIGTERM)")
        XCTAssertFalse(events.contains { $0.kind == "failed" })
        XCTAssertGreaterThan(events.filter { $0.kind == "interrupted" }.count, 0)
    }

    /// Ctrl-C typed at a terminal: the terminal's SIGINT reaches `rt run` (the foreground
    /// process), which stops the run cleanly and exits 130.
    func testCtrlCAtATerminalStopsTheRun() throws {
        let script = URL(fileURLWithPath: "/usr/bin/script")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: script.path), "needs util-linux's script(1) for a pseudo-terminal")
        let sweep = try sleepSweep("ctrl-c", trials: 20, seconds: 1, retries: 0)
        let command = ([try ProcessHarness.rtBinary().path, "run", sweep.path, "--workers", "2", "--runs", harness.runs.path] + fast)
            .map { "'\($0)'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = script
        process.arguments = ["-qfec", command, "/dev/null"]
        process.currentDirectoryURL = harness.directory
        let keyboard = Pipe(), screen = Pipe()
        process.standardInput = keyboard
        process.standardOutput = screen
        process.standardError = screen
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 60) { self.doneCount("ctrl-c") >= 2 })
        let pids = try processesOfRun("ctrl-c", afterEvent: 0)
        keyboard.fileHandleForWriting.write(Data([0x03])) // Ctrl-C
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 3) { !process.isRunning && !pids.contains(where: Self.isRunning) },
                      "still running 3 s after Ctrl-C: \(pids.filter(Self.isRunning))")
        process.waitUntilExit()
        let output = String(decoding: screen.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 130, output)
        XCTAssertTrue(output.contains("stopped by SIGINT") && output.contains("--resume"), output)
        let counts = try harness.store("ctrl-c").counts()
        XCTAssertEqual(counts[.leased] ?? 0, 0, "no trial is left leased")
        XCTAssertEqual(counts[.failed] ?? 0, 0)
    }

    /// A second coordinator on a live run, with or without --resume (and `rt run --resume`), is
    /// refused with exit status 75 (not 2: the command line was fine) naming the holder; once the holder is SIGKILLed, --resume
    /// takes the run over without any cleaning up.
    func testSecondCoordinatorIsRefusedUntilTheHolderDies() throws {
        let sweep = try sleepSweep("owned", trials: 6, seconds: 0.1, retries: 0)
        let holder = try harness.spawn("holder", ["coordinator", sweep.path, "--bind", harness.ipcEndpoint(), "--runs", harness.runs.path] + fast)
        XCTAssertEqual(try harness.coordinatorInfo("owned").pid, holder.pid)
        let attempts = [
            ["coordinator", sweep.path, "--bind", harness.ipcEndpoint(), "--runs", harness.runs.path],
            ["coordinator", sweep.path, "--bind", harness.ipcEndpoint(), "--runs", harness.runs.path, "--resume"],
            ["coordinator", "--resume-dir", harness.runs.appendingPathComponent("owned").path, "--bind", harness.ipcEndpoint()],
            ["run", sweep.path, "--resume", "--runs", harness.runs.path, "--workers", "1"],
        ]
        for (index, arguments) in attempts.enumerated() {
            let second = try harness.spawn("second-\(index)", arguments + fast)
            XCTAssertEqual(second.waitForExit(timeout: 20), 75, second.logText())
            XCTAssertTrue(second.logText().contains("is served by coordinator pid \(holder.pid) on host"), second.logText())
        }
        XCTAssertTrue(holder.isRunning, "the holder is untouched")
        XCTAssertEqual(try harness.store("owned").owner()?.pid, holder.pid, "the store names the owner too")

        holder.kill(SIGKILL)
        XCTAssertNotNil(holder.waitForExit(timeout: 10))
        let endpoint = harness.ipcEndpoint()
        let successor = try harness.spawn("successor", ["coordinator", sweep.path, "--resume", "--bind", endpoint, "--runs", harness.runs.path] + fast)
        try harness.spawn("worker", ["worker", "--connect", endpoint, "--name", "w"] + fast)
        XCTAssertEqual(successor.waitForExit(timeout: 60), 0, successor.logText())
        try assertAllDoneExactlyOnce("owned", count: 6)
        XCTAssertNil(try harness.store("owned").owner(), "a coordinator that ends says so")
    }

    /// The OOM killer takes the coordinator of `rt run`: it is restarted with --resume, the
    /// workers reconnect by themselves, and the sweep ends with every trial done once.
    func testKilledCoordinatorOfRunIsRestartedAndTheSweepFinishes() throws {
        let sweep = try sleepSweep("restart", trials: 100, seconds: 0.1, retries: 0)
        let run = try run(sweep, "run")
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 60) { self.doneCount("restart") >= 20 }, harness.logs())
        let first = try harness.coordinatorInfo("restart").pid
        kill(first, SIGKILL)
        XCTAssertEqual(run.waitForExit(timeout: 120), 0, run.logText())
        XCTAssertTrue(run.logText().contains("the coordinator (pid \(first)) was killed by SIGKILL; restarting it with --resume"), run.logText())
        try assertAllDoneExactlyOnce("restart", count: 100)
        XCTAssertNotEqual(try harness.coordinatorInfo("restart").pid, first)
    }

    /// SIGTERM to a worker started by hand (a preempted node): its trial stores a snapshot and
    /// is handed back at once, long before the 10 s liveness window would notice; the worker
    /// exits 143; the next worker goes on from the snapshot.
    func testStoppedWorkerHandsBackItsTrialWhichResumesFromItsSnapshot() throws {
        let sweep = try sleepSweep("preempt", trials: 1, seconds: 3, retries: 0)
        let slow = ["--heartbeat-ms", "200", "--liveness", "50"]
        let endpoint = harness.ipcEndpoint()
        let coordinator = try harness.spawn("coordinator", ["coordinator", sweep.path, "--bind", endpoint, "--runs", harness.runs.path] + slow)
        let first = try harness.spawn("first", ["worker", "--connect", endpoint, "--name", "first"] + slow)
        let status = try StatusClient(connect: endpoint)
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 30) {
            ((try? status.status(timeout: 1))?.workers.first?.progress["nap-0000"] ?? 0) >= 0.3
        }, harness.logs())
        XCTAssertEqual(try status.status(timeout: 1)?.workers.first?.notes?["nap-0000"], "sleeping", "rt status shows what the job said last")
        let stopped = Date()
        first.kill(SIGTERM)
        XCTAssertEqual(first.waitForExit(timeout: 5), 143, first.logText())
        var events: [(at: Double, kind: String, trial: String?, worker: String?, detail: String)] = []
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 5) {
            events = (try? self.harness.store("preempt").events()) ?? []
            return events.contains { $0.kind == "interrupted" }
        })
        let handedBack = try XCTUnwrap(events.first { $0.kind == "interrupted" })
        XCTAssertLessThan(handedBack.at - stopped.timeIntervalSince1970, 3, "handed back at once, not after the liveness window")
        let checkpoint = try XCTUnwrap(events.first { $0.kind == "checkpoint" }, "the stopped trial stored a snapshot")
        XCTAssertTrue(events.contains { $0.kind == "worker-left" && $0.worker == "first" })

        try harness.spawn("second", ["worker", "--connect", endpoint, "--name", "second"] + slow)
        XCTAssertEqual(coordinator.waitForExit(timeout: 30), 0, coordinator.logText())
        let trial = try XCTUnwrap(try harness.store("preempt").report().trials.first)
        XCTAssertEqual(trial.state, "done")
        XCTAssertEqual(trial.attempts, 2)
        let step = try XCTUnwrap(trial.metrics?["resumed_from_step"]?.intValue)
        XCTAssertGreaterThanOrEqual(step, 900, "went on from the snapshot (\(checkpoint.detail)), not from the start")
        XCTAssertTrue(checkpoint.detail.hasSuffix("step \(step)"), checkpoint.detail)
    }
}
