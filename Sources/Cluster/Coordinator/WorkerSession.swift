import Foundation

/// Identifies one lease: the trial and which attempt of it.
struct LeaseKey: Hashable {
    var trialID: String
    var attempt: Int
}

/// What the coordinator knows about one connected worker process.
final class WorkerSession {
    var routingID: Data
    let registration: RegisterMessage
    /// ZAP user id: the allow-list name of the key the worker authenticated with (CURVE only).
    let keyName: String?
    /// The job types it runs (revision 4); nil from an older worker, which may be leased any.
    let jobs: Set<String>?
    var credits = 0
    var leases: [LeaseKey: Date] = [:]
    var lastSeen: Date
    var progress: [String: Double] = [:]
    /// The last progress note per running trial (the job's own words: epoch, loss, ...).
    var notes: [String: String] = [:]

    /// The trial's lease ended here: its progress and note go with it.
    func clearProgress(_ trialID: String) {
        progress[trialID] = nil
        notes[trialID] = nil
    }
    var stats = WorkerStatistics()

    init(routingID: Data, registration: RegisterMessage, keyName: String?, now: Date) {
        self.routingID = routingID
        self.registration = registration
        self.keyName = keyName
        jobs = registration.jobs.map(Set.init)
        self.lastSeen = now
    }

    var name: String { registration.name }
    var host: String { registration.host }

    /// Whether it may be leased a trial of `job`.
    func runs(_ job: String) -> Bool { jobs?.contains(job) ?? true }
}

public struct WorkerStatistics: Codable, Equatable, Sendable {
    public var leased = 0
    public var done = 0
    public var failed = 0
    public var lost = 0
    public var busySeconds = 0.0
}

/// The live picture `rt status` shows, sent as the statusReply body.
public struct ClusterStatus: Codable, Equatable, Sendable {
    public struct Worker: Codable, Equatable, Sendable {
        public var name: String
        public var host: String
        public var pid: Int32
        public var threads: Int
        public var running: [String]
        /// Last reported fraction done per running trial.
        public var progress: [String: Double]
        /// Last reported note per running trial; nil from a coordinator before notes were kept.
        public var notes: [String: String]? = nil
        public var secondsSinceHeard: Double
        public var statistics: WorkerStatistics
    }

    public var sweep: String
    public var counts: [String: Int]
    public var total: Int
    public var workers: [Worker]
    /// Per host: statistics summed over its workers, including workers that have gone.
    public var hosts: [String: WorkerStatistics]
    public var elapsedSeconds: Double
    /// Trials finished per second since this coordinator started.
    public var throughput: Double
    public var etaSeconds: Double?
    /// Dropped incoming messages by reason (malformed, wrong_version, ...), plus zap_denied.
    public var dropped: [String: Int]
    public var lateResults: [String: Int]
}
