/// How the sweep ran: where trials ran, how long they took, what was retried or failed.
public struct ClusterSummary: Codable, Equatable, Sendable {
    /// Trials by state (`done`, `failed`, `pending`, `leased`).
    public var counts: [String: Int]
    public var hosts: [Workload]
    public var workers: [Workload]
    /// results.seconds of the done trials; nil when none is done.
    public var durations: Durations?
    /// Leases beyond the first, summed over trials.
    public var extraAttempts: Int
    /// Trials that needed more than one lease.
    public var retriedTrials: [String]
    public var failures: [TrialIssue]
    /// From the first lease to the last stored result; nil without both events.
    public var wallSeconds: Double?
    /// Done trials per hour of `wallSeconds`; nil when the wall time is zero or unknown.
    public var trialsPerHour: Double?

    public struct Workload: Codable, Equatable, Sendable {
        public var name: String
        public var done: Int
        public var seconds: Double
    }

    public struct Durations: Codable, Equatable, Sendable {
        public var count: Int
        public var mean: Double
        public var median: Double
        public var max: Double
    }

    enum CodingKeys: String, CodingKey {
        case counts, hosts, workers, durations, failures
        case extraAttempts = "extra_attempts"
        case retriedTrials = "retried_trials"
        case wallSeconds = "wall_seconds"
        case trialsPerHour = "trials_per_hour"
    }
}

/// A trial the study tables do not include, and why.
public struct TrialIssue: Codable, Equatable, Sendable {
    public var id: String
    public var stage: String
    public var state: String
    public var attempts: Int
    public var reason: String
}
