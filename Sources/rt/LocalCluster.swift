import ArgumentParser
import Cluster
import Foundation

/// A coordinator and N worker processes of this `rt` on this machine, over ipc://: what
/// `rt run` is, and how other commands (e.g. one that appends an attack suite to a finished
/// run) run a stored run to completion.
struct LocalCluster {
    var workers: Int
    var threads: Int
    var prefetch: Int
    /// Where new run directories go (`--runs`); a `.runDirectory` target names its own.
    var runsDirectory: String
    var heartbeat: HeartbeatOptions
    var quiet: Bool

    /// What the coordinator serves.
    enum Target {
        /// A sweep file: a new run, or with `resume` the run it created.
        case sweep(path: String, resume: Bool)
        /// The run stored in a run directory, from its own stored sweep.
        case runDirectory(URL)
    }

    /// Appends `stages` to the run stored in `runDirectory` (idempotent: see
    /// `RunStore.appendStages`) and runs it to completion. Returns what was appended and the
    /// coordinator's exit status (0 all done, 3 some failed).
    func appendAndRun(_ stages: [StageSpec], to runDirectory: URL) throws -> (appended: StageAppendResult, status: Int32) {
        let appended = try Self.openStore(runDirectory).appendStages(stages)
        return (appended, try run(.runDirectory(runDirectory)))
    }

    /// The store of an existing run directory (never creates one).
    static func openStore(_ runDirectory: URL) throws -> RunStore {
        let url = RunStore.url(runDirectory: runDirectory)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError("\(runDirectory.path) holds no run (no \(RunStore.fileName))")
        }
        return try RunStore(path: url.path)
    }

    /// Runs the coordinator and the workers until the coordinator exits; returns its exit status.
    func run(_ target: Target) throws -> Int32 {
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let endpoint = "ipc://\(FileManager.default.temporaryDirectory.path)/rt-run-\(getpid()).ipc"
        var coordinatorArguments = ["coordinator", "--bind", endpoint, "--runs", runsDirectory, "--quiet"] + heartbeat.arguments
        switch target {
        case let .sweep(path, resume): coordinatorArguments += [path] + (resume ? ["--resume"] : [])
        case let .runDirectory(url): coordinatorArguments += ["--resume-dir", url.path]
        }
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
            // Twice a second is live enough; asking back to back kept the coordinator and this
            // process busy (most of a core on a 2-core machine) for nothing.
            let asked = Date()
            if !quiet, let snapshot = try? status.status(timeout: 0.5) { display.show(snapshot) }
            Thread.sleep(forTimeInterval: max(0.05, 0.5 - Date().timeIntervalSince(asked)))
        }
        display.finish()
        // Workers leave on the coordinator's shutdown; if it failed to start there is none.
        let finished = coordinator.exitStatus == 0 || coordinator.exitStatus == 3
        let deadline = Date().addingTimeInterval(finished ? 1 : 0)
        while children.contains(where: \.isRunning) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        try? FileManager.default.removeItem(atPath: String(endpoint.dropFirst("ipc://".count)))
        return coordinator.exitStatus
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
