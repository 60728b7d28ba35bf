import ArgumentParser
import Cluster
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a sweep on this machine: a coordinator and N worker processes over ipc://.",
        discussion: """
            rt run SWEEP.yaml [--resume] starts (or continues) the run of a sweep file;             rt run --resume-dir RUN_DIR [--append STAGES.yaml] continues a stored run from its own stored sweep,             first appending the stages of STAGES.yaml (a YAML document with `stages:` whose `from:` may name the run's stages;             stages the run already has with the same definition add nothing).             The sweep file is checked first, before any process starts: it must parse, expand to at most RT_MAX_TRIALS trials (default 1000000) and name only job types this rt knows.             Exit status: 0 when every trial is done, 3 when some failed, 75 when another coordinator serves the run (docs/CLI.md).
            """)

    @Argument(help: "The sweep file (YAML); omit with --resume-dir.")
    var sweep: String?

    @Option(name: .long, help: "Worker processes to start.")
    var workers: Int = 2

    @OptionGroup var trials: TrialConcurrencyOptions

    @Flag(name: .long, help: "Continue the run stored in <runs>/<sweep>.")
    var resume = false

    @Flag(name: .customLong("create-or-resume"), help: "Continue the run stored in <runs>/<sweep> if there is one, else start it.")
    var createOrResume = false

    @Option(name: .customLong("resume-dir"), help: "Continue the run stored in this run directory from its own stored sweep (no sweep file).")
    var resumeDirectory: String?

    @Option(name: .long, help: "With --resume-dir: append the stages of this file to the run first.")
    var append: String?

    @Option(name: .long, help: "Directory that holds the run directories.")
    var runs: String = "runs"

    @OptionGroup var heartbeat: HeartbeatOptions

    @Flag(name: .long, help: "No progress display.")
    var quiet = false

    @OptionGroup var logging: LogOptions

    @Flag(name: .long, help: "Print one JSON object when the sweep ends (trial counts, stages appended) instead of the summary line.")
    var json = false

    func validate() throws {
        guard (sweep == nil) != (resumeDirectory == nil) else { throw ValidationError("give either a sweep file or --resume-dir RUN_DIR") }
        if (resume || createOrResume) && resumeDirectory != nil { throw ValidationError("--resume goes with a sweep file; --resume-dir resumes by itself") }
        if append != nil && resumeDirectory == nil { throw ValidationError("--append needs --resume-dir RUN_DIR: stages are appended to a stored run") }
        try LocalCluster.validate(workers: workers)
    }

    func run() throws {
        // Checked before any process starts: a sweep that does not parse, is too large or names
        // a job this rt does not know is refused here, not after workers took leases.
        if let sweep { _ = try SweepCheck.summary(of: sweep) }
        // A stored run goes on with the same command (--resume-dir; appending again adds nothing).
        let cluster = LocalCluster(workers: workers, concurrency: trials.trialsAtOnce("rt run"), prefetch: trials.prefetch, runsDirectory: runs,
                                   heartbeat: heartbeat, quiet: quiet, childLogging: try logging.childArguments(), childOutput: !json,
                                   continueCommand: ContinueCommand.current(adding: sweep == nil || createOrResume ? nil : "--resume"))
        let started = Date()
        let code: Int32
        var appended: StageAppendResult?
        let target: LocalCluster.Target
        if let resumeDirectory {
            target = .runDirectory(URL(fileURLWithPath: resumeDirectory))
        } else {
            target = .sweep(path: sweep!, resume: resume, createIfMissing: createOrResume)
        }
        if let resumeDirectory, let append {
            let runDirectory = URL(fileURLWithPath: resumeDirectory)
            let stages = try Self.stages(inFile: append, for: runDirectory)
            let result = try cluster.appendAndRun(stages, to: runDirectory)
            appended = result.appended
            if !json {
                print("appended \(result.appended.added.count) stages (\(result.appended.trials.count) trials), \(result.appended.unchanged.count) already in the run")
            }
            code = result.status
        } else {
            code = try cluster.run(target)
        }
        if json {
            try JSONLines.print(RunOutcome(runDirectory: try cluster.runDirectory(of: target), status: code,
                                           seconds: Date().timeIntervalSince(started), appended: appended))
        }
        if code != 0 { throw ExitCode(code) }
    }

    /// The stages of an appendix file, checked against the stages the run already has.
    static func stages(inFile path: String, for runDirectory: URL) throws -> [StageSpec] {
        let store = try LocalCluster.openStore(runDirectory)
        guard let existing = try store.sweep() else {
            throw CommandFailure("\(runDirectory.path) holds no sweep to append to")
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CommandFailure("\(path): cannot read: \(error.localizedDescription)")
        }
        // The stored trials count towards the trial limit of what the appendix makes from them.
        let stages = try SweepParser(file: path).parseAppendix(text, existing: existing.stages.map(\.name),
                                                               existingTrials: try store.trials().map(\.spec), seeds: existing.seeds)
        try SweepCheck.checkJobs(stages, file: path)
        return stages
    }
}

/// The progress of a local cluster's sweep on standard error (`rt run`, `rt study`, `rt evaluate`):
/// the `ProgressLine` on a terminal; elsewhere (a log file, Slurm's output) the same text as a
/// line of its own every 5 seconds, which nothing parses. `--quiet` turns both off.
final class ProgressDisplay {
    private let enabled: Bool
    private let line: ProgressLine
    private var lastLine = Date.distantPast

    init(enabled: Bool) {
        self.enabled = enabled
        line = ProgressLine(enabled: enabled)
    }

    func show(_ status: ClusterStatus) {
        guard enabled else { return }
        let done = status.counts["done"] ?? 0, failed = status.counts["failed"] ?? 0
        let leased = status.counts["leased"] ?? 0
        let eta = status.etaSeconds.map { ProgressLine.duration($0) } ?? "?"
        // Each running trial with its last reported fraction: long trials show they are alive.
        let running = status.workers.flatMap { worker in worker.running.map { id in "\(id) \(Int(100 * (worker.progress[id] ?? 0)))%" } }.sorted()
        let text = "\(status.sweep): \(done + failed)/\(status.total) finished (\(failed) failed), \(leased) running on \(status.workers.count) workers"
            + (running.isEmpty ? "" : " [\(running.joined(separator: ", "))]")
            + ", \(ProgressLine.duration(status.elapsedSeconds)) elapsed, ETA \(eta)"
        if line.isShown {
            line.draw(line.meter(Double(done + failed) / Double(max(status.total, 1)), width: 12) + " " + text, force: true)
        } else if Date().timeIntervalSince(lastLine) >= 5 {
            FileHandle.standardError.write(Data("\(text)\n".utf8))
            lastLine = Date()
        }
    }

    func finish() {
        line.clear()
    }
}
