import Foundation

public struct CoordinatorConfiguration {
    /// e.g. tcp://0.0.0.0:5555, tcp://127.0.0.1:*, ipc:///tmp/rt.ipc
    public var bind: String
    /// What workers dial, recorded in coordinator.json: a host or a whole endpoint (nil: the
    /// bound endpoint, a wildcard host replaced; see `AdvertisedEndpoint`).
    public var advertise: String?
    /// `.curveServer` needs `allowList`; `.none` is refused off loopback unless `insecure`.
    public var security: TransportSecurity
    public var allowList: CurveAllowList?
    public var insecure: Bool
    /// Parent of the run directories: the store is at `<runs>/<sweep>/rt.sqlite`.
    public var runsDirectory: URL
    public var heartbeat: HeartbeatSettings
    public var resume: Bool
    /// With `resume`: a run that does not exist yet is created instead of refused (a launcher
    /// that submits, requeues and resubmits the same command).
    public var createIfMissing = false
    /// Exit with an error when no worker has been connected for this long while trials remain
    /// (nil: wait for workers forever), so a batch job whose workers all died does not sit idle
    /// until its time limit.
    public var idleTimeout: TimeInterval?
    /// The most trials one worker may run at once (its `threads`); a registration claiming more
    /// is refused with the reason, so one peer cannot soak up the lease queue.
    public var maxWorkerThreads = 256
    /// How long after the first worker registers a stage whose job no registered worker runs
    /// waits for one that does; then its trials fail, without a lease (`Coordinator+JobTypes`).
    /// Workers with other job types (another build) have this long to join.
    public var jobTypeWait: TimeInterval = 30
    /// Artifacts travel in chunks of this many bytes.
    public var chunkSize: Int
    /// After the last trial is final, how long to keep answering (status, late workers) before exiting.
    public var lingerAfterFinish: TimeInterval
    /// A data-parallel trial that has waited this long for enough free workers gets them reserved:
    /// freed slots are held for it instead of going to the trials queued behind it. Until then
    /// those trials go on, so neither a gang nor single-replica trials wait without bound.
    public var gangReservation: TimeInterval
    /// Asks for a clean stop (the first request) or an immediate one (the second): SIGINT and
    /// SIGTERM for `rt coordinator`.
    public var stop: StopRequest
    /// After a clean stop is asked for, how long running trials get to hand themselves back
    /// (a snapshot, then an interrupted failure) before their leases are released anyway.
    public var stopGrace: TimeInterval

    public init(bind: String, security: TransportSecurity = .none, allowList: CurveAllowList? = nil, insecure: Bool = false,
                runsDirectory: URL, heartbeat: HeartbeatSettings = .default, resume: Bool = false,
                chunkSize: Int = 1 << 20, lingerAfterFinish: TimeInterval = 0.3, gangReservation: TimeInterval = 30,
                stop: StopRequest = StopRequest(), stopGrace: TimeInterval = 10) {
        self.stop = stop
        self.stopGrace = stopGrace
        self.bind = bind
        self.security = security
        self.allowList = allowList
        self.insecure = insecure
        self.runsDirectory = runsDirectory
        self.heartbeat = heartbeat
        self.resume = resume
        self.chunkSize = chunkSize
        self.lingerAfterFinish = lingerAfterFinish
        self.gangReservation = gangReservation
    }
}

public enum CoordinatorError: Error, CustomStringConvertible {
    case insecureBind(String)
    case missingAllowList
    case sweepChanged(file: String, runDirectory: String)
    case runExists(String)
    case nothingToResume(String)
    /// Another live coordinator serves the run (nil: one that is still starting up).
    case runHeld(runDirectory: String, holder: RunOwner?)
    case lockUnavailable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .insecureBind(endpoint):
            return "refusing to bind \(endpoint) without CurveZMQ keys: it is reachable from the network. Give --keys and --allow, or --insecure"
        case .missingAllowList:
            return "CurveZMQ needs an allow-list of worker public keys (--allow DIR)"
        case let .sweepChanged(file, dir):
            return "\(file) differs from the sweep stored in \(dir); resume with the same file or start a new run"
        case let .runExists(dir):
            return "\(dir) already holds a run; add --resume to continue it, or remove it"
        case let .nothingToResume(dir):
            return "--resume: \(dir) holds no run to resume"
        case let .runHeld(dir, holder):
            return "run \(dir) is served by \(holder?.description ?? "another coordinator (starting up)"); stop it or wait"
        case let .lockUnavailable(path, reason):
            return "cannot open the run's lock file \(path): \(reason)"
        }
    }
}

/// Written next to the store so `rt status` and `rt runs list` can find a live coordinator.
public struct CoordinatorInfo: Codable, Equatable, Sendable {
    public var sweep: String
    public var endpoint: String
    public var pid: Int32
    public var host: String
    public var startedAt: Double
    public var curve: Bool

    public static let fileName = "coordinator.json"
}
