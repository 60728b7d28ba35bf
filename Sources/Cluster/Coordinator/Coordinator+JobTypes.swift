import Foundation

/// Job types against the workers that run them: a worker is leased only job types it listed
/// when it registered (`TrialScheduler.popReady(runnableBy:)`); here, a stage whose job no
/// registered worker runs is said once, at the first registration, and fails when
/// `jobTypeWait` has passed without a worker that runs it: its pending trials and their
/// dependants fail without a lease, so no attempt and no retry budget is spent on them.
extension Coordinator {
    /// A worker registered: what it runs counts from now on.
    func countJobTypes(of session: WorkerSession, now: Date = Date()) {
        jobCensus.register(worker: session.name, jobs: session.jobs, now: now, wait: configuration.jobTypeWait)
        settleJobTypes(now: now)
        for job in jobCensus.found() { log.info("job '\(job)' is run by worker \(session.name) on \(session.host)") }
        guard !jobCensus.settled else { return }
        let needed = scheduler.unfinishedStages()
        let wait = Int((jobCensus.deadline?.timeIntervalSince(now) ?? 0).rounded(.up))
        for job in jobCensus.unsaid(jobCensus.missing(needed)) {
            let why = unrunnable(job, stages: needed[job] ?? [])
            log.warning("\(why); its trials fail in \(wait) s unless a worker that runs it registers (--job-type-wait)")
            try? store.recordEvent(kind: "job-type-missing", detail: WireLimits.clipped(why))
        }
    }

    /// Once the wait is over: every stage whose job no registered worker runs fails.
    func settleJobTypes(now: Date = Date()) {
        guard jobCensus.settle(now: now) else { return }
        let needed = scheduler.unfinishedStages()
        for job in jobCensus.missing(needed) {
            for stage in (needed[job] ?? []).sorted() {
                let why = unrunnable(job, stages: [stage])
                let trials = scheduler.pendingTrials(ofStage: stage)
                log.error("\(why): its \(trials.count) pending trials fail, and the trials that depend on them")
                try? store.recordEvent(kind: "job-type-missing", detail: WireLimits.clipped(why))
                for id in trials { failForever(id, reason: why, quietly: true) }
            }
        }
    }

    /// "stage b needs job 'nosuchjob', which no registered worker runs (local-1 runs crash, sum, ...)".
    private func unrunnable(_ job: String, stages: Set<String>) -> String {
        let sorted = stages.sorted()
        let named = sorted.count == 1 ? "stage \(sorted[0]) needs" : "stages \(sorted.joined(separator: ", ")) need"
        return "\(named) job '\(job)', which no registered worker runs (\(jobCensus.offeringsText))"
    }
}
