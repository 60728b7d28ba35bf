import ArgumentParser
import Cluster
import Foundation

/// A coordinator and N worker processes of this `rt` on this machine, over ipc://: what
/// `rt run` is, and how other commands (e.g. one that appends an attack suite to a finished
/// run) run a stored run to completion.
///
/// It supervises them: a worker that dies is replaced, a coordinator that dies (SIGKILL, the
/// OOM killer) is restarted with `--resume` a bounded number of times; SIGINT or SIGTERM is
/// passed to the coordinator, which stops cleanly (a second one stops it at once). Every child
/// ends with this process however it ends (`SupervisedProcess`). Each abnormal end says what
/// happened and prints `continueCommand`.
struct LocalCluster {
    var workers: Int
    /// Trials each worker runs at once (`rt worker --concurrency`).
    var concurrency: Int
    var prefetch: Int
    /// Where new run directories go (`--runs`); a `.runDirectory` target names its own.
    var runsDirectory: String
    var heartbeat: HeartbeatOptions
    var quiet: Bool
    /// `--log-level L` for the coordinator and workers (`LogOptions.childArguments`).
    var childLogging: [String]
    /// Whether the coordinator's summary line goes to standard output (not under `--json`).
    var childOutput = true
    /// What a user types to go on after an interrupted run (`ContinueCommand`).
    var continueCommand: String
    /// Restarts of a coordinator that died on a signal nobody here sent.
    var coordinatorRestarts = 3

    /// What the coordinator serves.
    enum Target {
        /// A sweep file: a new run, or with `resume` the run it created (with `createIfMissing`,
        /// whichever applies).
        case sweep(path: String, resume: Bool, createIfMissing: Bool = false)
        /// The run stored in a run directory, from its own stored sweep.
        case runDirectory(URL)
    }

    /// Appends `stages` to the run stored in `runDirectory` (idempotent: see
    /// `RunStore.appendStages`) and runs it to completion. Returns what was appended and the
    /// coordinator's exit status (0 all done, 3 some failed).
    func appendAndRun(_ stages: [StageSpec], to runDirectory: URL) throws -> (appended: StageAppendResult, status: Int32) {
        try Self.refuseIfServed(runDirectory)
        let appended = try Self.openStore(runDirectory).appendStages(stages)
        return (appended, try run(.runDirectory(runDirectory)))
    }

    /// The store of an existing run directory (never creates one).
    static func openStore(_ runDirectory: URL) throws -> RunStore {
        let url = RunStore.url(runDirectory: runDirectory)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CommandFailure("\(runDirectory.path) holds no run (no \(RunStore.fileName))")
        }
        return try RunStore(path: url.path)
    }

    /// `--workers`, checked by the commands that start a local cluster, in their `validate()`.
    static func validate(workers: Int) throws {
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1, got \(workers)") }
    }

    /// Exit status `CommandExit.runHeld`, naming the holder, when a live coordinator serves the run.
    static func refuseIfServed(_ runDirectory: URL) throws {
        guard let refusal = RunLock.refusal(for: runDirectory) else { return }
        Notice.say("\(refusal)")
        throw ExitCode(CommandExit.runHeld)
    }

    func runDirectory(of target: Target) throws -> URL {
        switch target {
        case let .runDirectory(url): return url
        case let .sweep(path, _, _):
            let (spec, _) = try SweepParser.parse(contentsOf: URL(fileURLWithPath: path))
            return URL(fileURLWithPath: runsDirectory).appendingPathComponent(spec.name)
        }
    }

    /// Runs the coordinator and the workers until the coordinator exits; returns its exit status
    /// (0 all done, 3 some failed). A stop on a signal, or a coordinator that cannot be kept
    /// alive, is reported here and thrown as the exit status (130, 143, ...).
    func run(_ target: Target) throws -> Int32 {
        precondition(workers >= 1, "the command's validate() checks --workers")
        let runDirectory = try runDirectory(of: target)
        try Self.refuseIfServed(runDirectory)
        StopRequest.installSignalHandlers()
        let stop = StopRequest.signals
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let endpoint = "ipc://\(FileManager.default.temporaryDirectory.path)/rt-run-\(getpid()).ipc"
        let common = ["coordinator", "--bind", endpoint, "--runs", runsDirectory] + childLogging + heartbeat.arguments
        func coordinatorArguments(resuming: Bool) -> [String] {
            switch target {
            case let .sweep(path, resume, create):
                return common + [path] + (resume || resuming ? ["--resume"] : create ? ["--create-or-resume"] : [])
            case let .runDirectory(url): return common + ["--resume-dir", url.path]
            }
        }
        var coordinator = try LocalProcess(executable: executable, arguments: coordinatorArguments(resuming: false), label: "the coordinator",
                                           discardingOutput: !childOutput)
        func startWorker(_ name: String) throws -> LocalProcess {
            try LocalProcess(executable: executable, arguments: [
                "worker", "--connect", endpoint, "--concurrency", "\(concurrency)", "--prefetch", "\(prefetch)", "--name", name,
            ] + childLogging + heartbeat.arguments, label: "worker \(name)")
        }
        var children: [LocalProcess] = []
        defer {
            children.forEach { $0.terminate() }
            coordinator.terminate()
            try? FileManager.default.removeItem(atPath: String(endpoint.dropFirst("ipc://".count)))
        }
        for index in 0..<workers { children.append(try startWorker("local-\(index + 1)")) }
        let status = try StatusClient(connect: endpoint)
        let display = ProgressDisplay(enabled: !quiet)
        var replacements = 0, restarts = 0
        var forwarded = 0 // stop requests passed on to the coordinator
        while true {
            if stop.count > forwarded, let signal = stop.signal {
                if forwarded == 0 { display.finish(); Notice.say("\(SignalExit.name(signal)): stopping the run (again to stop at once)") }
                forwarded = stop.count
                coordinator.kill(signal)
                if forwarded > 1 { children.forEach { $0.kill(signal) } }
            }
            if !coordinator.isRunning {
                // Died on a signal nobody here sent (the OOM killer, kill -9): the store is the
                // truth, so a new coordinator resumes it and the workers reconnect by themselves.
                guard forwarded == 0, case .killed? = coordinator.end, restarts < coordinatorRestarts else { break }
                restarts += 1
                display.finish()
                Notice.say("\(coordinator.endDescription); restarting it with --resume (restart \(restarts) of \(coordinatorRestarts))")
                coordinator = try LocalProcess(executable: executable, arguments: coordinatorArguments(resuming: true), label: "the coordinator",
                                               discardingOutput: !childOutput)
                continue
            }
            // A worker that died mid-sweep (a crashing job, the OOM killer) is replaced, a
            // bounded number of times so a job that kills every worker cannot loop forever.
            // Exit status 0 means it left on the coordinator's shutdown.
            for index in children.indices where forwarded == 0 && !children[index].isRunning && children[index].exitStatus != 0 && replacements < 2 * workers {
                replacements += 1
                let name = "local-\(index + 1)-\(replacements)"
                display.finish()
                Notice.say("\(children[index].endDescription); starting \(name) in its place (\(replacements) of \(2 * workers) replacements)")
                children[index] = try startWorker(name)
            }
            // Twice a second is live enough; asking back to back kept the coordinator and this
            // process busy (most of a core on a 2-core machine) for nothing.
            let asked = Date()
            if !quiet && forwarded == 0, let snapshot = try? status.status(timeout: 0.5) { display.show(snapshot) }
            Thread.sleep(forTimeInterval: max(0.05, 0.5 - Date().timeIntervalSince(asked)))
        }
        display.finish()
        // Workers leave on the coordinator's shutdown; any still here after a moment are stopped.
        Self.waitForExit(children, seconds: coordinator.exitStatus == 0 || coordinator.exitStatus == 3 || forwarded > 0 ? 1 : 0)
        children.forEach { $0.terminate() }
        Self.waitForExit(children, seconds: 2)
        children.forEach { $0.kill(SIGKILL) }

        let end = coordinator.end
        if forwarded > 0, let signal = stop.signal {
            Notice.say("stopped by \(SignalExit.name(signal)): \(Self.progress(runDirectory).closing(continueCommand))")
            throw ExitCode(SignalExit.status(signal))
        }
        switch end {
        case .exited(0)?, .exited(3)?:
            return coordinator.exitStatus
        case .exited(CommandExit.runHeld)?:
            throw ExitCode(CommandExit.runHeld) // it said why: another coordinator serves the run
        default:
            let why = restarts == coordinatorRestarts && restarts > 0 ? " after \(restarts) restarts; giving up" : ""
            Notice.say("\(coordinator.endDescription)\(why): \(Self.progress(runDirectory).closing(continueCommand))")
            throw ExitCode(coordinator.exitStatus > 0 ? coordinator.exitStatus : 1)
        }
    }

    private static func waitForExit(_ processes: [LocalProcess], seconds: TimeInterval) {
        let deadline = Date().addingTimeInterval(seconds)
        while processes.contains(where: \.isRunning) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    }

    /// What the run's store holds, for the closing line of a run that did not finish.
    enum StoredProgress: Equatable {
        /// No store yet (the coordinator stopped before it wrote the sweep).
        case nothing
        /// "37 of 100 trials done, 0 failed, 63 to go".
        case counts(String)
        /// The store is there but cannot be read (the coordinator's error said why, too).
        case unreadable(String)

        /// "...; continue with: CMD", or for a store that cannot be read, that it must be
        /// repaired first: continuing alone would fail the same way.
        func closing(_ continueCommand: String) -> String {
            switch self {
            case .nothing: return "nothing stored yet; continue with: \(continueCommand)"
            case let .counts(text): return "\(text); continue with: \(continueCommand)"
            case let .unreadable(problem): return "the run's store cannot be read (\(problem)); repair or remove it, then continue with: \(continueCommand)"
            }
        }
    }

    /// What the run's store holds (read-only). Every trial row is read, checked as a resuming
    /// coordinator checks it, so a row it would refuse is not summed up as if all were well.
    static func progress(_ runDirectory: URL) -> StoredProgress {
        let url = RunStore.url(runDirectory: runDirectory)
        guard FileManager.default.fileExists(atPath: url.path) else { return .nothing }
        do {
            let trials = try RunStore(path: url.path, readOnly: true).trials()
            let total = trials.count, done = trials.filter { $0.state == .done }.count, failed = trials.filter { $0.state == .failed }.count
            return .counts("\(done) of \(total) trials done, \(failed) failed, \(total - done - failed) to go")
        } catch {
            return .unreadable("\(error)")
        }
    }
}
