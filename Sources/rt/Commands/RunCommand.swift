import ArgumentParser
import Cluster
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a sweep on this machine: a coordinator and N worker processes over ipc://.",
        discussion: """
            rt run SWEEP.yaml [--resume] starts (or continues) the run of a sweep file;             rt run --resume-dir RUN_DIR [--append STAGES.yaml] continues a stored run from its own stored sweep,             first appending the stages of STAGES.yaml (a YAML document with `stages:` whose `from:` may name the run's stages;             stages the run already has with the same definition add nothing).             The sweep file is checked first, before any process starts: it must parse, expand to at most RT_MAX_TRIALS trials (default 1000000) and name only job types this rt knows.             Exit status: 0 when every trial is done, non-zero when any failed.
            """)

    @Argument(help: "The sweep file (YAML); omit with --resume-dir.")
    var sweep: String?

    @Option(name: .long, help: "Worker processes to start.")
    var workers: Int = 2

    @Option(name: .long, help: "Trials each worker runs at once.")
    var threads: Int = 1

    @Option(name: .long, help: "Trials each worker holds queued beyond --threads.")
    var prefetch: Int = 0

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
        let cluster = LocalCluster(workers: workers, threads: threads, prefetch: prefetch, runsDirectory: runs,
                                   heartbeat: heartbeat, quiet: quiet,
                                   continueCommand: ContinueCommand.current(adding: sweep == nil || createOrResume ? nil : "--resume"))
        let code: Int32
        if let resumeDirectory {
            let runDirectory = URL(fileURLWithPath: resumeDirectory)
            if let append {
                let stages = try Self.stages(inFile: append, for: runDirectory)
                let (appended, status) = try cluster.appendAndRun(stages, to: runDirectory)
                print("appended \(appended.added.count) stages (\(appended.trials.count) trials), \(appended.unchanged.count) already in the run")
                code = status
            } else {
                code = try cluster.run(.runDirectory(runDirectory))
            }
        } else {
            code = try cluster.run(.sweep(path: sweep!, resume: resume, createIfMissing: createOrResume))
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
