import Foundation
import XCTest
import TensorEngine

/// `rt train --replicas k` as a user runs it: real processes, a ring over ipc:// sockets.
final class ReplicaProcessTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-dp-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if testRun?.hasSucceeded ?? false { try? FileManager.default.removeItem(at: directory) }
    }

    /// 615 examples in global batches of 32: 20 steps, the last of 7 examples (3 + 4 on two replicas).
    let trainArguments = ["train", "--dataset", "synthetic:classes=4,channels=1,size=12,train=615,test=64,seed=5", "--model", "small-cnn",
                          "--epochs", "1", "--batch-size", "32", "--lr", "0.05", "--threads", "1", "--seed", "11", "--json"]

    func testTwoReplicasMatchOneProcessAndRepeatBitForBit() throws {
        let single = try train("single", replicas: 1)
        // 64 KiB buckets: small-cnn's gradients go out in several, while backward still runs.
        let first = try train("first", replicas: 2, extra: ["--bucket-kb", "64"])
        let second = try train("second", replicas: 2, extra: ["--bucket-kb", "64"])
        let three = try train("three", replicas: 3) // slices of 10, 11 and 11 (the last batch: 2, 2, 3)

        for (name, run) in [("2 replicas", first), ("3 replicas", three)] {
            XCTAssertEqual(run.loss, single.loss, accuracy: 1e-4 * abs(single.loss), "\(name): epoch loss of 20 steps")
            assertSameTensors(run.tensors, single.tensors, name)
        }
        XCTAssertEqual(first.checkpoint, second.checkpoint, "same seed and replicas: the same bytes")
    }

    /// With batch-norm each replica normalizes its slice with the slice's statistics, so k
    /// replicas are one process only when it does the same (`--bn-slices k`): parameters and
    /// running statistics (averaged over replicas at the epoch's end) within the same 1e-4.
    /// Four steps: beyond a few, a ReLU whose input sits at rounding distance from zero flips in
    /// one run and not the other and the two trajectories part (one process with 1 and with 2
    /// engine threads parts the same way), which is not what this compares.
    func testBatchNormReplicasMatchOneProcessWithAsManyStatisticsSlices() throws {
        var arguments = trainArguments
        arguments[arguments.firstIndex(of: "--dataset")! + 1] = "synthetic:classes=4,channels=3,size=8,train=103,test=64,seed=5"
        arguments[arguments.firstIndex(of: "small-cnn")!] = "resnet8"
        let single = try train("bn-single", replicas: 1, extra: ["--bn-slices", "3"], arguments: arguments)
        let three = try train("bn-three", replicas: 3, arguments: arguments) // slices of 10, 11, 11; the last batch of 7: 2, 2, 3
        XCTAssertEqual(three.loss, single.loss, accuracy: 1e-4 * abs(single.loss), "epoch loss of 4 steps")
        XCTAssertTrue(three.tensors.tensors.keys.contains("bn1.running_var"))
        assertSameTensors(three.tensors, single.tensors, "3 replicas vs --bn-slices 3")
        // Without the slices one process is a different function of the data: the check above is not vacuous.
        let whole = try train("bn-whole", replicas: 1, arguments: arguments)
        XCTAssertGreaterThan(whole.tensors.relativeDifferences(from: three.tensors).values.max() ?? 0, 1e-3)
    }

    func testKillingAReplicaStopsTheOthersWithinTheWindow() throws {
        let out = directory.appendingPathComponent("killed.safetensors").path
        let rank0 = try startLongTraining("killed", replicas: 2, extra: ["--output", out, "--heartbeat-ms", "250", "--liveness", "4"])
        defer { rank0.kill(SIGKILL) }
        let children = rank0.childProcesses()
        XCTAssertEqual(children.count, 1, "one `rt replica` child:\n\(rank0.output)")
        let killedAt = Date()
        for child in children { kill(child, SIGKILL) }
        XCTAssertTrue(wait(timeout: 30) { !rank0.isRunning }, "rank 0 must stop, not hang:\n\(rank0.output)")
        let seconds = Date().timeIntervalSince(killedAt)
        XCTAssertNotEqual(rank0.exitStatus, 0)
        XCTAssertTrue(rank0.output.contains("rank 1"), "the error names the lost replica:\n\(rank0.output)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no checkpoint from a failed run")
        // Not a timing assertion on speed: a guard that failure detection is the liveness window (1 s), not a hang.
        XCTAssertLessThan(seconds, 10, "rank 0 noticed after \(seconds) s")
    }

    /// The other way round: rank 0 SIGKILLed (the OOM killer, a scheduler's kill). Its
    /// `rt replica` children must not train on as orphans: the kernel stops them.
    func testKillingRankZeroLeavesNoReplicaBehind() throws {
        let rank0 = try startLongTraining("orphans", replicas: 3, extra: ["--output", directory.appendingPathComponent("orphans.safetensors").path])
        defer { rank0.kill(SIGKILL) }
        let children = rank0.childProcesses()
        XCTAssertEqual(children.count, 2, "two `rt replica` children:\n\(rank0.output)")
        rank0.kill(SIGKILL)
        XCTAssertTrue(wait(timeout: 3) { !children.contains { kill($0, 0) == 0 && !Self.isZombie($0) } },
                      "replicas \(children) still running 3 s after rank 0 was SIGKILLed")
    }

    /// `rt train --replicas k` for 200 epochs (far longer than any test waits), once its first
    /// epoch has finished, so every replica is running.
    func startLongTraining(_ label: String, replicas: Int, extra: [String]) throws -> RTProcess {
        var arguments = trainArguments + ["--replicas", "\(replicas)"] + extra
        arguments[arguments.firstIndex(of: "--epochs")! + 1] = "200"
        let rank0 = try RTProcess(arguments, log: directory.appendingPathComponent("\(label).log"))
        XCTAssertTrue(wait(timeout: 120) { rank0.output.contains("\"epoch\"") || !rank0.isRunning }, "no epoch finished:\n\(rank0.output)")
        return rank0
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }

    // MARK: Helpers

    struct Trained {
        var loss: Double
        var tensors: CheckpointTensors
        var checkpoint: Data
    }

    func train(_ name: String, replicas: Int, extra: [String] = [], arguments: [String]? = nil) throws -> Trained {
        let out = directory.appendingPathComponent("\(name).safetensors").path
        let process = try RTProcess((arguments ?? trainArguments) + ["--replicas", "\(replicas)", "--output", out] + extra,
                                    log: directory.appendingPathComponent("\(name).log"))
        XCTAssertTrue(wait(timeout: 300) { !process.isRunning }, "\(name) did not finish")
        XCTAssertEqual(process.exitStatus, 0, process.output)
        let epoch = try XCTUnwrap(process.output.split(separator: "\n").first { $0.contains("\"train_loss\"") }, process.output)
        let object = try JSONSerialization.jsonObject(with: Data(epoch.utf8)) as! [String: Any]
        return Trained(loss: object["train_loss"] as! Double, tensors: try CheckpointTensors(path: out),
                       checkpoint: try Data(contentsOf: URL(fileURLWithPath: out)))
    }
}

/// The built `rt` (next to this test bundle in .build/<configuration>/, or $RT_BINARY), with
/// its stdout and stderr in one log file.
final class RTProcess {
    let process = Process()
    let log: URL

    /// `rt` with `arguments`, or the program `executable` (a script that runs `rt`: it finds
    /// this one through RT_BINARY).
    init(_ arguments: [String], log: URL, executable: URL? = nil) throws {
        self.log = log
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = executable ?? Self.binary
        process.environment = ProcessInfo.processInfo.environment.merging(["RT_BINARY": Self.binary.path]) { $1 }
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// The script at `path` with `arguments`.
    static func script(_ path: String, _ arguments: [String], log: URL) throws -> RTProcess {
        try RTProcess(arguments, log: log, executable: URL(fileURLWithPath: path))
    }

    static var binary: URL {
        // The bundle is the .xctest file or the directory that holds it, depending on the platform.
        let bundle = Bundle(for: RTProcess.self).bundleURL
        let nearby = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("rt") }
        return ProcessInfo.processInfo.environment["RT_BINARY"].map(URL.init(fileURLWithPath:))
            ?? nearby.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? nearby[0]
    }

    var isRunning: Bool { process.isRunning }
    var exitStatus: Int32 { process.waitUntilExit(); return process.terminationStatus }
    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    func kill(_ signal: Int32) { if process.isRunning { Foundation.kill(process.processIdentifier, signal) } }

    /// Direct children, from /proc.
    func childProcesses() -> [pid_t] {
        let pid = process.processIdentifier
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
