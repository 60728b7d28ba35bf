import Foundation
import GRDB
import XCTest
@testable import Cluster

/// The commands refuse hostile or broken input before they start anything (issue 13).
final class HostileInputProcessTests: XCTestCase {
    private var harness: ProcessHarness!

    override func setUpWithError() throws {
        _ = try ProcessHarness.rtBinary()
        harness = try ProcessHarness(testName: name.filter { $0.isLetter })
    }

    override func tearDown() { try? FileManager.default.removeItem(at: harness.directory) }

    private func rt(_ arguments: [String], environment: [String: String] = [:]) throws -> ShellCommand.Outcome {
        let command = ([try ProcessHarness.rtBinary().path] + arguments).map(ShellCommand.quoted).joined(separator: " ")
        return ShellCommand(command: command, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                            directory: harness.directory, timeout: 60).run()
    }

    func testRunRefusesAnUnknownJobBeforeStartingAnything() throws {
        let sweep = try harness.writeSweep("unknown", "name: unknown\nstages:\n  - {name: a, job: nosuchjob}\n")
        let outcome = try rt(["run", sweep.path, "--workers", "1", "--runs", harness.runs.path, "--quiet"])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.text.contains("stage a: unknown job 'nosuchjob'"), outcome.text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.runs.appendingPathComponent("unknown").path), "no run was created")
    }

    func testStudyRefusesAnUnknownJobBeforeStartingAnything() throws {
        let sweep = try harness.writeSweep("unknown", "name: unknown\nstages:\n  - {name: a, job: nosuchjob}\n")
        let outcome = try rt(["study", sweep.path, "--workers", "1", "--runs", harness.runs.path, "--quiet"])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.text.contains("unknown job 'nosuchjob'"), outcome.text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.runs.appendingPathComponent("unknown").path))
    }

    /// A stored run whose store was edited into an impossible row: the coordinator's error
    /// names the row, and `rt run`'s closing line says the store cannot be read (not that
    /// nothing is stored) before it says how to continue.
    func testRunOnACorruptStoreSaysSoInItsClosingLine() throws {
        let sweep = try harness.writeSweep("corrupt", "name: corrupt\nstages:\n  - {name: a, job: sum, grid: {add: [1, 2, 3]}}\n")
        let first = try rt(["run", sweep.path, "--workers", "1", "--runs", harness.runs.path, "--quiet"])
        XCTAssertEqual(first.status, 0, first.text)
        let store = try RunStore(path: RunStore.url(runDirectory: harness.runs.appendingPathComponent("corrupt")).path)
        try store.pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: "UPDATE trials SET state = 'paused' WHERE id = 'a-0001'")
        }
        let outcome = try rt(["run", sweep.path, "--resume", "--workers", "1", "--runs", harness.runs.path, "--quiet"])
        XCTAssertNotEqual(outcome.status, 0, outcome.text)
        XCTAssertTrue(outcome.text.contains("table trials, row a-0001, column state: 'paused' is not a trial state"), outcome.text)
        XCTAssertFalse(outcome.text.contains("nothing stored yet"), outcome.text)
        let closing = try XCTUnwrap(outcome.text.split(separator: "\n").last.map(String.init), outcome.text)
        XCTAssertTrue(closing.contains("the coordinator"), closing)
        XCTAssertTrue(closing.contains("the run's store cannot be read ("), closing)
        XCTAssertTrue(closing.contains("repair or remove it, then continue with: "), closing)
    }

    /// `rt worker --jobs` names job types this rt has; another is refused naming it.
    func testWorkerRefusesAJobTypeItDoesNotHave() throws {
        let outcome = try rt(["worker", "--connect", "ipc:///nonexistent/rt.ipc", "--jobs", "sleep,nosuchjob"])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.text.contains("--jobs: unknown job type 'nosuchjob'; this worker has "), outcome.text)
    }

    func testRunRefusesAHugeGridAtOnceAndTheLimitIsConfigurable() throws {
        let sweep = try harness.writeSweep("huge", "name: huge\nstages:\n  - name: a\n    job: sum\n    grid:\n      i: {range: [0, 1000000]}\n      j: {range: [0, 1000000]}\n")
        let started = Date()
        let outcome = try rt(["run", sweep.path, "--workers", "1", "--runs", harness.runs.path, "--quiet"])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.text.contains("\(sweep.path):7:"), outcome.text)
        XCTAssertTrue(outcome.text.contains("stages[0].grid.j: the grid up to this axis has more than 1000000 points"), outcome.text)
        print("rt run refused a 10^12 grid in \(Int(Date().timeIntervalSince(started) * 1000)) ms: \(outcome.text)")
        let small = try harness.writeSweep("small", "name: small\nstages:\n  - {name: a, job: sum, grid: {i: {range: [0, 20]}}}\n")
        let limited = try rt(["coordinator", "--check", small.path], environment: [SweepLimits.maxTrialsVariable: "10"])
        XCTAssertNotEqual(limited.status, 0)
        XCTAssertTrue(limited.text.contains("makes 20 values, past the limit of 10 trials per sweep (RT_MAX_TRIALS sets it)"), limited.text)
        XCTAssertEqual(try rt(["coordinator", "--check", small.path]).status, 0)
    }

    func testRunRefusesASweepNamedDotDot() throws {
        let sweep = try harness.writeSweep("dots", "name: ..\nstages:\n  - {name: a, job: sum}\n")
        let outcome = try rt(["run", sweep.path, "--workers", "1", "--runs", harness.runs.path, "--quiet"])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.text.contains("\(sweep.path):1:7: name:"), outcome.text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.directory.appendingPathComponent(RunStore.fileName).path))
    }

    func testCoordinatorRefusesAPlaintextBindOnAnUnresolvableLoopbackLookalike() throws {
        let sweep = try harness.writeSweep("evil", "name: evil\nstages:\n  - {name: a, job: sum}\n")
        let outcome = try rt(["coordinator", sweep.path, "--bind", "tcp://127.evil:5555", "--runs", harness.runs.path, "--quiet"])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.text.contains("refusing to bind tcp://127.evil:5555 without CurveZMQ keys"), outcome.text)
    }

    func testKeysGenerateWritesTheSecret0600InA0700Directory() throws {
        guard ZMQContext.hasCurve else { throw XCTSkip("this libzmq has no CurveZMQ") }
        let directory = harness.directory.appendingPathComponent("keys")
        let outcome = ShellCommand(command: "umask 000 && \(ShellCommand.quoted(try ProcessHarness.rtBinary().path)) keys generate --output \(ShellCommand.quoted(directory.path))",
                                   timeout: 30).run()
        XCTAssertEqual(outcome.status, 0, outcome.text)
        let attributes = { (path: String) in (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue }
        XCTAssertEqual(try attributes(directory.path), 0o700)
        XCTAssertEqual(try attributes(directory.appendingPathComponent("secret.key").path), 0o600)
    }
}
