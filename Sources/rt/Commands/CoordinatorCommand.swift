import ArgumentParser
import Cluster
import Foundation

/// Heartbeat settings shared by coordinator, worker and run.
struct HeartbeatOptions: ParsableArguments {
    @Option(name: .customLong("heartbeat-ms"), help: "Heartbeat interval in milliseconds.")
    var heartbeatMilliseconds: Int = 1000

    @Option(name: .long, help: "Missed heartbeats after which a peer is presumed dead.")
    var liveness: Int = 3

    var settings: HeartbeatSettings {
        HeartbeatSettings(interval: Double(max(10, heartbeatMilliseconds)) / 1000, liveness: max(1, liveness))
    }

    var arguments: [String] { ["--heartbeat-ms", "\(heartbeatMilliseconds)", "--liveness", "\(liveness)"] }
}

struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Serve a sweep to workers over ZeroMQ; the results go to <runs>/<sweep>/rt.sqlite.",
        discussion: """
            One coordinator serves a run: it holds RUNS/<sweep>/coordinator.lock for its whole life, and a second one \
            (with or without --resume) is refused with exit status \(CommandExit.runHeld) naming the holder; --create-or-resume starts the \
            run or continues it, whichever applies. SIGINT or SIGTERM stops it \
            cleanly: no new leases, running trials store a snapshot and are handed back, then it exits and prints the \
            command that continues the run; a second signal stops it at once. \
            Exit status: 0 when every trial is done, 3 when the sweep finished with failed trials, \(CommandExit.runHeld) when another \
            coordinator serves the run, 4 when no worker came for --idle-timeout seconds or the run directory's disk is full, 130 after SIGINT, 143 after SIGTERM.
            """)

    @Argument(help: "The sweep file (YAML); omit with --resume-dir.")
    var sweep: String?

    @Option(name: .long, help: "Endpoint to listen on, e.g. tcp://0.0.0.0:5555 or ipc:///tmp/rt.ipc.")
    var bind: String = "tcp://127.0.0.1:5555"

    @Option(name: .long, help: "The address workers dial, recorded in RUNS/<sweep>/coordinator.json: a host or a whole endpoint. Default: the bound endpoint, with a wildcard host (0.0.0.0, *) replaced by this machine's first non-loopback IPv4 address.")
    var advertise: String?

    @Flag(name: .long, help: "Only check the sweep file: parse it, expand its trials and check that this build knows every stage's job; print a summary and exit (status 0), or exit non-zero naming the file, line and key.")
    var check = false

    @Option(name: .long, help: "Directory with this coordinator's CurveZMQ key pair (public.key, secret.key).")
    var keys: String?

    @Option(name: .long, help: "Directory of allow-listed worker public keys (*.key).")
    var allow: String?

    @Flag(name: .long, help: "Allow plain TCP on a non-loopback address.")
    var insecure = false

    @Flag(name: .long, help: "Continue the run stored in <runs>/<sweep> instead of starting a new one.")
    var resume = false

    @Flag(name: .customLong("create-or-resume"), help: "Continue the run stored in <runs>/<sweep> if there is one, else start it (for launchers that submit and requeue the same command).")
    var createOrResume = false

    @Option(name: .customLong("idle-timeout"), help: "Exit with status 4 when no worker has been connected for this many seconds while trials remain.")
    var idleTimeout: Double?

    @Option(name: .customLong("resume-dir"), help: "Continue the run stored in this run directory from its own stored sweep (no sweep file), appended stages included.")
    var resumeDirectory: String?

    @Option(name: .long, help: "Directory that holds the run directories.")
    var runs: String = "runs"

    @OptionGroup var heartbeat: HeartbeatOptions

    @Option(name: .customLong("gang-reservation"), help: "Seconds a data-parallel trial waits for enough free workers before freed workers are held for it (until then trials queued behind it go on).")
    var gangReservation: Double = 30

    @Option(name: .customLong("stop-grace"), help: "Seconds running trials get to hand themselves back on SIGINT/SIGTERM.")
    var stopGrace: Double = 10

    @Option(name: .customLong("max-worker-concurrency"), help: "The most trials one worker may run at once; a worker registering with a larger --concurrency is refused, saying why.")
    var maxWorkerConcurrency: Int?

    @Option(name: .customLong("job-type-wait"), help: "Seconds after the first worker registers that a stage whose job no registered worker runs waits for one that does; then its trials fail without a lease (workers list their job types when they register).")
    var jobTypeWait: Double = 30

    @Option(name: .customLong("max-worker-threads"), help: ArgumentHelp("Deprecated spelling of --max-worker-concurrency.", visibility: .hidden))
    var maxWorkerThreads: Int?

    private static let oldLimit = DeprecatedSpelling(command: "rt coordinator", old: "--max-worker-threads", new: "--max-worker-concurrency")

    @Flag(name: .long, help: "Log only warnings and errors (--log-level warning).")
    var quiet = false

    @OptionGroup var logging: LogOptions

    func validate() throws {
        guard (sweep == nil) != (resumeDirectory == nil) else { throw ValidationError("give either a sweep file or --resume-dir RUN_DIR") }
        if (resume || createOrResume) && resumeDirectory != nil { throw ValidationError("--resume goes with a sweep file; --resume-dir resumes by itself") }
        if let idleTimeout, !(idleTimeout > 0 && idleTimeout.isFinite) { throw ValidationError("--idle-timeout must be a number of seconds > 0, got \(idleTimeout)") }
        guard gangReservation >= 0 && gangReservation.isFinite else { throw ValidationError("--gang-reservation must be a number of seconds >= 0, got \(gangReservation)") }
        try Self.oldLimit.checkNotBoth(maxWorkerConcurrency, maxWorkerThreads)
        let limit = maxWorkerConcurrency ?? maxWorkerThreads ?? 256
        guard limit >= 1 else { throw ValidationError("--max-worker-concurrency must be at least 1, got \(limit)") }
        guard stopGrace >= 0 && stopGrace.isFinite else { throw ValidationError("--stop-grace must be a number of seconds >= 0, got \(stopGrace)") }
        guard jobTypeWait >= 0 && jobTypeWait.isFinite else { throw ValidationError("--job-type-wait must be a number of seconds >= 0, got \(jobTypeWait)") }
        if check && sweep == nil { throw ValidationError("--check needs a sweep file") }
        try KeyOptions.validateServer(keys: keys, allow: allow)
    }

    func run() throws {
        if check, let sweep { return print(try SweepCheck.summary(of: sweep).line) }
        SupervisedProcess.bindToParent()
        StopRequest.installSignalHandlers()
        try logging.apply(quiet: quiet)
        let (security, allowList) = try KeyOptions.serverSecurity(keys: keys, allow: allow)
        // A bind without keys must resolve to loopback addresses only (`LoopbackEndpoint`):
        // the host's text proves nothing (an interface may be named `127.evil`).
        if case .none = security, !insecure, !LoopbackEndpoint.isLocal(bind) {
            throw CoordinatorError.insecureBind(bind)
        }
        var configuration = CoordinatorConfiguration(bind: bind, security: security, allowList: allowList, insecure: insecure,
                                                     runsDirectory: URL(fileURLWithPath: runs), heartbeat: heartbeat.settings,
                                                     resume: resume || createOrResume,
                                                     gangReservation: gangReservation, stop: .signals, stopGrace: stopGrace)
        configuration.createIfMissing = createOrResume
        configuration.advertise = advertise
        configuration.maxWorkerThreads = Self.oldLimit.value(maxWorkerConcurrency, maxWorkerThreads) ?? 256
        configuration.idleTimeout = idleTimeout
        configuration.jobTypeWait = jobTypeWait
        let coordinator: Coordinator
        do {
            coordinator = try resumeDirectory.map { try Coordinator(resuming: URL(fileURLWithPath: $0), configuration: configuration) }
                ?? Coordinator(sweepFile: URL(fileURLWithPath: sweep!), configuration: configuration)
        } catch let error as CoordinatorError {
            guard case .runHeld = error else { throw error }
            Notice.say("\(error)")
            throw ExitCode(CommandExit.runHeld)
        }
        let summary = try coordinator.run()
        print("\(summary.sweep): \(summary.done) done, \(summary.failed) failed of \(summary.total) (\(summary.runDirectory.path))")
        if let signal = summary.stoppedBy {
            // Under `rt run` the parent reports the stop with its own command line.
            if !SupervisedProcess.isSupervised {
                let again = resumeDirectory == nil && !createOrResume ? ContinueCommand.current(adding: "--resume") : ContinueCommand.current()
                Notice.say("stopped by \(SignalExit.name(signal)); continue with: \(again)")
            }
            throw ExitCode(SignalExit.status(signal))
        }
        if let abandoned = summary.abandoned {
            Notice.say("\(abandoned): giving up; continue with: \(ContinueCommand.current(adding: createOrResume ? nil : "--resume"))")
            throw ExitCode(4)
        }
        if summary.failed > 0 { throw ExitCode(3) }
    }
}
