import Foundation
import XCTest
@testable import Cluster

/// Spawns real `rt` processes for a test and kills every one of them in tearDown.
final class ProcessHarness {
    let directory: URL
    let runs: URL
    private(set) var processes: [SpawnedProcess] = []

    init(testName: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-cluster-tests-\(getpid())-\(testName)-\(UUID().uuidString.prefix(8))")
        runs = directory.appendingPathComponent("runs")
        try FileManager.default.createDirectory(at: runs, withIntermediateDirectories: true)
    }

    /// The built `rt`: $RT_BINARY, else next to the test bundle (both live in .build/<config>/).
    static func rtBinary() throws -> URL {
        if let override = ProcessInfo.processInfo.environment["RT_BINARY"] { return URL(fileURLWithPath: override) }
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rt"),
                          Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("rt"),
                          Bundle(for: ProcessHarness.self).bundleURL.deletingLastPathComponent().appendingPathComponent("rt")]
        candidates += candidates.map { $0.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("rt") }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        throw MissingBinary(searched: candidates.map(\.path))
    }

    /// Starts `rt <arguments>` with its output in `<directory>/<label>.log`.
    @discardableResult
    func spawn(_ label: String, _ arguments: [String]) throws -> SpawnedProcess {
        let process = try SpawnedProcess(executable: Self.rtBinary(), arguments: arguments,
                                         log: directory.appendingPathComponent("\(label).log"), workingDirectory: directory)
        processes.append(process)
        return process
    }

    func writeSweep(_ name: String, _ text: String) throws -> URL {
        let url = directory.appendingPathComponent("\(name).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func store(_ sweep: String) throws -> RunStore {
        try RunStore(path: RunStore.url(runDirectory: runs.appendingPathComponent(sweep)).path, readOnly: true)
    }

    func coordinatorInfo(_ sweep: String, timeout: TimeInterval = 20) throws -> CoordinatorInfo {
        let url = runs.appendingPathComponent(sweep).appendingPathComponent(CoordinatorInfo.fileName)
        var info: CoordinatorInfo?
        XCTAssertTrue(Self.waitUntil(timeout: timeout) {
            info = (try? Data(contentsOf: url)).flatMap { try? ClusterJSON.decode(CoordinatorInfo.self, from: $0) }
            return info != nil
        }, "coordinator never wrote \(url.path)")
        return try XCTUnwrap(info)
    }

    /// Logs of every process, for failure messages.
    func logs() -> String {
        processes.map { "--- \($0.log.lastPathComponent) ---\n" + $0.logTail() }.joined(separator: "\n")
    }

    func tearDown(keepOnFailure: Bool) {
        for process in processes { process.kill(SIGKILL) }
        for process in processes { _ = process.waitForExit(timeout: 5) }
        for path in socketFiles { try? FileManager.default.removeItem(atPath: path) }
        if !keepOnFailure { try? FileManager.default.removeItem(at: directory) }
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes.
    static func waitUntil(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }

    private var socketFiles: [String] = []

    /// A short ipc endpoint in /tmp (unix socket paths are limited to ~107 bytes), removed in
    /// tearDown (a SIGKILLed coordinator leaves its socket file behind).
    func ipcEndpoint() -> String {
        let path = "/tmp/rt-test-\(getpid())-\(UUID().uuidString.prefix(8)).ipc"
        socketFiles.append(path)
        return "ipc://\(path)"
    }
}

struct MissingBinary: Error, CustomStringConvertible {
    var searched: [String]
    var description: String {
        "cannot find the rt binary next to the test bundle (looked at \(searched.joined(separator: ", "))); run `swift build -c release` first or set RT_BINARY"
    }
}

final class SpawnedProcess {
    let process = Process()
    let log: URL

    init(executable: URL, arguments: [String], log: URL, workingDirectory: URL) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log.path, contents: nil) // FileHandle(forWritingTo:) below reports failure
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = workingDirectory
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func kill(_ signal: Int32) {
        if process.isRunning { Foundation.kill(process.processIdentifier, signal) }
    }

    /// Exit status, or nil if still running after `timeout`.
    func waitForExit(timeout: TimeInterval) -> Int32? {
        guard ProcessHarness.waitUntil(timeout: timeout, { !process.isRunning }) else { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func logText() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func logTail(lines: Int = 40) -> String {
        logText().split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
