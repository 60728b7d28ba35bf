import Foundation

/// A trial handed from the link thread to a job thread.
struct PendingJob {
    var lease: LeaseMessage
    var parentArtifacts: [ParentArtifact]
    var cancellation: CancellationFlag
    var replica: ReplicaSlot?
    var resume: (Data, Int)?
}

/// What a job thread hands back to the link thread.
enum JobReport {
    case finished(LeaseMessage, JobOutcome, seconds: Double)
    case failed(LeaseMessage, reason: String)
    case progress(trialID: String, attempt: Int, fraction: Double, note: String)
    case ringEndpoint(RingEndpointMessage)
    case checkpoint(LeaseMessage, Data, step: Int)
}

/// `threads` job threads running handlers from the registry. They never touch a socket:
/// reports go through `outbox` and a wake-up byte, so heartbeats never wait for a job.
final class JobExecutor {
    let jobs = LockedQueue<PendingJob>()
    let outbox = LockedQueue<JobReport>()
    let wake: WakePipe
    let registry: JobRegistry

    init(registry: JobRegistry, threads: Int) throws {
        self.registry = registry
        wake = try WakePipe()
        for index in 0..<threads {
            let thread = Thread { [jobs, outbox, wake, registry] in
                while let job = jobs.pop() { Self.run(job, registry: registry, outbox: outbox, wake: wake) }
            }
            thread.name = "rt-job-\(index)"
            thread.start()
        }
    }

    func stop() { jobs.close() }

    private static func run(_ job: PendingJob, registry: JobRegistry, outbox: LockedQueue<JobReport>, wake: WakePipe) {
        let lease = job.lease
        guard let handler = registry.handler(for: lease.job) else {
            outbox.push(.failed(lease, reason: "no handler for job type \"\(lease.job)\" on this worker (has: \(registry.jobTypes.joined(separator: ", ")))"))
            wake.wake()
            return
        }
        var context = JobContext(trialID: lease.trialID, stage: lease.stage, job: lease.job, parameters: lease.parameters, seed: lease.seed,
                                 attempt: lease.attempt, parentArtifacts: job.parentArtifacts, cancellation: job.cancellation,
                                 replica: job.replica) { fraction, note in
            outbox.push(.progress(trialID: lease.trialID, attempt: lease.attempt, fraction: fraction, note: note))
            wake.wake()
        }
        context.resume = job.resume.map { (bytes: $0.0, step: $0.1) }
        context.saveCheckpoint = { bytes, step in
            outbox.push(.checkpoint(lease, bytes, step: step))
            wake.wake()
        }
        let started = Date()
        do {
            let outcome = try handler.run(context)
            outbox.push(.finished(lease, outcome, seconds: Date().timeIntervalSince(started)))
        } catch {
            outbox.push(.failed(lease, reason: "\(error)"))
        }
        wake.wake()
    }
}
