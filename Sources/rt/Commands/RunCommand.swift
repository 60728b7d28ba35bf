import ArgumentParser
import Cluster
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a sweep on this machine: a coordinator and N worker processes over ipc://.",
        discussion: "Exit status: 0 when every trial is done, non-zero when any failed.")

    @Argument(help: "The sweep file (YAML).")
    var sweep: String

    @Option(name: .long, help: "Worker processes to start.")
    var workers: Int = 2

    @Option(name: .long, help: "Trials each worker runs at once.")
    var threads: Int = 1

    @Option(name: .long, help: "Trials each worker holds queued beyond --threads.")
    var prefetch: Int = 0

    @Flag(name: .long, help: "Continue the run stored in <runs>/<sweep>.")
    var resume = false

    @Option(name: .long, help: "Directory that holds the run directories.")
    var runs: String = "runs"

    @OptionGroup var heartbeat: HeartbeatOptions

    @Flag(name: .long, help: "No progress display.")
    var quiet = false

    func run() throws {
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let endpoint = "ipc://\(FileManager.default.temporaryDirectory.path)/rt-run-\(getpid()).ipc"
        var coordinatorArguments = ["coordinator", sweep, "--bind", endpoint, "--runs", runs, "--quiet"] + heartbeat.arguments
        if resume { coordinatorArguments.append("--resume") }
        let coordinator = try LocalProcess(executable: executable, arguments: coordinatorArguments)
        func startWorker(_ name: String) throws -> LocalProcess {
            try LocalProcess(executable: executable, arguments: [
                "worker", "--connect", endpoint, "--threads", "\(threads)", "--prefetch", "\(prefetch)", "--name", name, "--quiet",
            ] + heartbeat.arguments)
        }
        var children: [LocalProcess] = []
        defer { children.forEach { $0.terminate() }; coordinator.terminate() }
        for index in 0..<workers { children.append(try startWorker("local-\(index + 1)")) }
        let status = try StatusClient(connect: endpoint)
        let display = ProgressDisplay(enabled: !quiet)
        var replacements = 0
        while coordinator.isRunning {
            // A worker that died mid-sweep (a crashing job, the OOM killer) is replaced, a
            // bounded number of times so a job that kills every worker cannot loop forever.
            // Exit status 0 means it left on the coordinator's shutdown.
            for index in children.indices where !children[index].isRunning && children[index].exitStatus != 0 && replacements < 2 * workers {
                replacements += 1
                children[index] = try startWorker("local-\(index + 1)-\(replacements)")
            }
            if let snapshot = try? status.status(timeout: 0.5) { display.show(snapshot) }
            else { Thread.sleep(forTimeInterval: 0.2) }
        }
        display.finish()
        // Workers leave on the coordinator's shutdown; if it failed to start there is none.
        let finished = coordinator.exitStatus == 0 || coordinator.exitStatus == 3
        let deadline = Date().addingTimeInterval(finished ? 1 : 0)
        while children.contains(where: \.isRunning) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        try? FileManager.default.removeItem(atPath: String(endpoint.dropFirst("ipc://".count)))
        let code = coordinator.exitStatus
        if code != 0 { throw ExitCode(code) }
    }
}

/// A child `rt` process; its output goes to ours unless `discardingOutput` (its errors always do).
final class LocalProcess {
    private let process = Process()

    init(executable: URL, arguments: [String], discardingOutput: Bool = false) throws {
        process.executableURL = executable
        process.arguments = arguments
        if discardingOutput { process.standardOutput = FileHandle.nullDevice }
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    var exitStatus: Int32 { process.isRunning ? -1 : process.terminationStatus }

    func terminate() { kill(SIGTERM) }

    func kill(_ signal: Int32) {
        if process.isRunning { Foundation.kill(process.processIdentifier, signal) }
    }
}

/// One line of progress on standard error, redrawn in place on a terminal.
final class ProgressDisplay {
    private let enabled: Bool
    private let terminal = isatty(2) != 0
    private var lastLine = Date.distantPast

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ status: ClusterStatus) {
        guard enabled else { return }
        let done = status.counts["done"] ?? 0, failed = status.counts["failed"] ?? 0
        let leased = status.counts["leased"] ?? 0
        let eta = status.etaSeconds.map { Self.duration($0) } ?? "?"
        // Each running trial with its last reported fraction: long trials show they are alive.
        let running = status.workers.flatMap { worker in worker.running.map { id in "\(id) \(Int(100 * (worker.progress[id] ?? 0)))%" } }.sorted()
        let line = "\(status.sweep): \(done + failed)/\(status.total) finished (\(failed) failed), \(leased) running on \(status.workers.count) workers"
            + (running.isEmpty ? "" : " [\(running.joined(separator: ", "))]")
            + ", \(Self.duration(status.elapsedSeconds)) elapsed, ETA \(eta)"
        if terminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
        } else if Date().timeIntervalSince(lastLine) >= 5 {
            FileHandle.standardError.write(Data("\(line)\n".utf8))
            lastLine = Date()
        }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }

    func finish() {
        if enabled && terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
