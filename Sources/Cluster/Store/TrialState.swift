/// The life of a trial in the store. `done` and `failed` are final.
public enum TrialState: String, Codable, CaseIterable, Sendable {
    case pending, leased, done, failed
}

/// A trial as the store knows it.
public struct TrialRecord: Equatable, Sendable {
    public var spec: TrialSpec
    public var state: TrialState
    public var attempts: Int
    public var worker: String?
    public var host: String?
    public var failureReason: String?
    /// Hash of the artifact the trial produced, once done.
    public var artifactHash: String?
}

/// What `rt report --format trials-json` prints per trial.
public struct TrialReport: Codable, Equatable, Sendable {
    public var id: String
    public var stage: String
    public var job: String
    public var parameters: [String: JSONValue]
    public var seed: Int
    /// The first parent (the one the artifact lineage records), nil for a root stage.
    public var parent: String?
    /// Every parent, in `from:` order; empty for a root stage.
    public var parents: [String]
    public var state: String
    public var attempts: Int
    public var worker: String?
    public var host: String?
    public var metrics: [String: JSONValue]?
    public var failure: String?
    public var artifact: String?
    public var seconds: Double?
}

public struct SweepReport: Codable, Equatable, Sendable {
    public var sweep: String
    public var counts: [String: Int]
    public var trials: [TrialReport]
    /// Stored results per worker and per host: how many trials each finished and in how many seconds.
    public var workers: [String: ResultTotals]
    public var hosts: [String: ResultTotals]
}

public struct ResultTotals: Codable, Equatable, Sendable {
    public var done = 0
    public var seconds = 0.0
}
