import Foundation

/// What a job handler gets: the trial's description, its parents' artifacts, and ways to
/// report progress and notice cancellation. Handlers run on worker threads, many at once.
public struct JobContext: Sendable {
    public var trialID: String
    public var stage: String
    public var job: String
    public var parameters: [String: JSONValue]
    public var seed: Int
    public var attempt: Int
    /// The artifacts of the parent trials (`from:`), in `from:` order, fetched and hash-checked;
    /// empty for a root stage.
    public var parentArtifacts: [ParentArtifact]
    public var cancellation: CancellationFlag
    public var progress: @Sendable (_ fraction: Double, _ note: String) -> Void
    /// Set when the trial is data-parallel (`replicas:` > 1): this worker's replica of it.
    public var replica: ReplicaSlot?
    /// A checkpoint an earlier attempt stored (`saveCheckpoint`) and the step it was taken after:
    /// the job should go on from there instead of starting over.
    public var resume: (bytes: Data, step: Int)?
    /// Stores a checkpoint of the running trial with the coordinator (sent in the background);
    /// if this attempt is lost, the next one gets it as `resume`.
    public var saveCheckpoint: (@Sendable (_ bytes: Data, _ step: Int) -> Void)?

    public init(trialID: String, stage: String, job: String, parameters: [String: JSONValue], seed: Int, attempt: Int,
                parentArtifacts: [ParentArtifact], cancellation: CancellationFlag, replica: ReplicaSlot? = nil,
                progress: @escaping @Sendable (Double, String) -> Void) {
        self.trialID = trialID
        self.stage = stage
        self.job = job
        self.parameters = parameters
        self.seed = seed
        self.attempt = attempt
        self.parentArtifacts = parentArtifacts
        self.cancellation = cancellation
        self.replica = replica
        self.progress = progress
    }

    /// The bytes of the first parent's artifact (`from: a`, or `a` in `from: [a, b]`).
    public var parentArtifact: Data? { parentArtifacts.first?.bytes }
}

/// One parent's artifact as a job sees it.
public struct ParentArtifact: Sendable, Equatable {
    /// The parent's stage and trial; both empty when a revision-1 coordinator leased the trial.
    public var stage: String
    public var trialID: String
    public var bytes: Data

    public init(stage: String, trialID: String, bytes: Data) {
        self.stage = stage
        self.trialID = trialID
        self.bytes = bytes
    }
}

/// What a finished job hands back: metrics, per-example masks, and at most one artifact
/// (e.g. a checkpoint) that dependent stages consume.
public struct JobOutcome: Sendable {
    public var metrics: [String: JSONValue]
    public var masks: [String: Data]
    public var artifact: (name: String, bytes: Data)?

    public init(metrics: [String: JSONValue], masks: [String: Data] = [:], artifact: (name: String, bytes: Data)? = nil) {
        self.metrics = metrics
        self.masks = masks
        self.artifact = artifact
    }
}

/// A job failed; the message goes to the store as the failure reason of that attempt.
public struct JobError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Runs one job type. Cluster knows only this protocol; the study's job types (pretrain,
/// finetune, ...) implement it in their own module and register with the worker's registry.
public protocol JobHandler: Sendable {
    func run(_ context: JobContext) throws -> JobOutcome
}

/// A handler made from a closure.
public struct ClosureJobHandler: JobHandler {
    let body: @Sendable (JobContext) throws -> JobOutcome
    public init(_ body: @escaping @Sendable (JobContext) throws -> JobOutcome) { self.body = body }
    public func run(_ context: JobContext) throws -> JobOutcome { try body(context) }
}

/// Job type name -> handler. Built once by the program before the worker starts.
public struct JobRegistry: Sendable {
    private var handlers: [String: any JobHandler] = [:]

    public init() {}

    public mutating func register(_ jobType: String, _ handler: any JobHandler) {
        handlers[jobType] = handler
    }

    public func handler(for jobType: String) -> (any JobHandler)? { handlers[jobType] }
    public var jobTypes: [String] { handlers.keys.sorted() }

    /// Only the job types in `names` (`rt worker --jobs`): a worker registered with it is
    /// leased nothing else. A name it does not hold is an error naming it and what it holds.
    public func restricted(to names: [String]) throws -> JobRegistry {
        var restricted = JobRegistry()
        for name in names {
            guard let handler = handlers[name] else {
                throw JobError("unknown job type '\(name)'; this worker has \(jobTypes.joined(separator: ", "))")
            }
            restricted.register(name, handler)
        }
        return restricted
    }
}

/// Set by the worker when the coordinator cancels a lease or the run stops; long jobs should
/// poll it. A stop also sets `isCancelled`, so a job that only knows cancelling still ends; a
/// job that can take a snapshot (`JobContext.saveCheckpoint`) checks `stopRequested` first.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var stopped = false
    public init() {}
    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }
    /// The trial is to end because its worker or the run stops, not because it is unwanted:
    /// store a snapshot to go on from, then end.
    public var stopRequested: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
    public func cancel() { lock.lock(); cancelled = true; lock.unlock() }
    public func requestStop() { lock.lock(); (cancelled, stopped) = (true, true); lock.unlock() }
}
