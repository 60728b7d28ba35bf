import ArgumentParser
import Cluster
import DataParallel
import Foundation
import Jobs
import Study

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run trials for a coordinator until it says the sweep is over.",
        discussion: """
            SIGINT or SIGTERM stops it cleanly: running trials store a snapshot where they can, are handed back to the \
            coordinator (which requeues them at once, their attempt given back) and the worker exits with 130 or 143; \
            a second signal stops it at once.
            """)

    @Option(name: .long, help: "Coordinator endpoint, e.g. tcp://HOST:5555.")
    var connect: String

    @Option(name: .long, help: "Directory with this worker's key pair and the coordinator's public key (coordinator.key).")
    var keys: String?

    @Option(name: .customLong("coordinator-key"), help: "The coordinator's public key file (default: KEYS/coordinator.key).")
    var coordinatorKey: String?

    @OptionGroup var trials: TrialConcurrencyOptions

    @Option(name: .long, help: "Job types to run, comma-separated (default: every job type this rt knows); the coordinator leases this worker no other.")
    var jobs: String?

    @Option(name: .long, help: "Name in logs and reports (default: HOST-PID).")
    var name: String?

    @Option(name: .customLong("max-backoff-ms"), help: "Longest wait between reconnection attempts, in milliseconds.")
    var maxBackoffMilliseconds: Int = 8000

    @Option(name: .customLong("ring-host"), help: "Address data-parallel replicas on this worker listen on and are reached at (default 127.0.0.1; this host's address across hosts).")
    var ringHost = "127.0.0.1"

    @Flag(name: .long, help: "Allow data-parallel rings on a non-loopback --ring-host without CurveZMQ keys.")
    var insecure = false

    @OptionGroup var heartbeat: HeartbeatOptions

    @Option(name: .customLong("stop-grace"), help: "Seconds running trials get to store a snapshot and end on SIGINT/SIGTERM.")
    var stopGrace: Double = 3

    @Flag(name: .long, help: "Log only warnings and errors (--log-level warning).")
    var quiet = false

    @OptionGroup var logging: LogOptions

    /// Every job type this build of `rt` can run: the cluster's test jobs and the Jobs module's.
    static func jobRegistry() -> JobRegistry {
        var registry = JobRegistry()
        ToyJobs.register(into: &registry)
        JobCatalog.register(into: &registry)
        return registry
    }

    /// The registry this worker runs: every job type, or those `--jobs` names.
    func registry() throws -> JobRegistry {
        let all = Self.jobRegistry()
        guard let jobs else { return all }
        let names = jobs.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw ValidationError("--jobs names no job type; this rt knows \(all.jobTypes.joined(separator: ", "))") }
        do { return try all.restricted(to: names) } catch { throw ValidationError("--jobs: \(error)") }
    }

    func validate() throws {
        _ = try registry()
        // Gradients are as private as the data: off loopback the ring runs over CurveZMQ (with
        // --keys, the only way a worker gets security), or on request in the clear.
        if keys == nil, !insecure, !LoopbackEndpoint.isLocal("tcp://\(ringHost):0") {
            throw ValidationError("--ring-host \(ringHost) is not loopback: give --keys (CurveZMQ) or --insecure")
        }
    }

    func run() throws {
        SupervisedProcess.bindToParent()
        StopRequest.installSignalHandlers()
        try logging.apply(quiet: quiet)
        let security = try KeyOptions.clientSecurity(keys: keys, coordinatorKey: coordinatorKey)
        var configuration = WorkerConfiguration(connect: connect, security: security, name: name, threads: trials.trialsAtOnce("rt worker"), prefetch: trials.prefetch,
                                                heartbeat: heartbeat.settings,
                                                maxReconnectBackoff: Double(max(10, maxBackoffMilliseconds)) / 1000)
        configuration.ringHost = ringHost
        configuration.stop = .signals
        configuration.stopGrace = max(0, stopGrace)
        let worker = try Worker(configuration: configuration, registry: try registry())
        _ = try worker.run()
        if let signal = worker.stoppedBy { throw ExitCode(SignalExit.status(signal)) }
    }
}
