import Foundation

/// Which job types the registered workers run (each lists them when it registers, protocol
/// revision 4), against the job types the run still needs. The first registration opens it;
/// a stage whose job no registered worker runs is said once and, if no worker that runs it has
/// registered when the wait is over, its trials fail without a lease (`Coordinator+JobTypes`).
///
/// What workers run is remembered for the coordinator's life, not just while they are
/// connected: a job type some worker ran is runnable, and its trials wait for a worker like any.
struct JobCensus {
    /// Job types some registered worker runs.
    private(set) var offered: Set<String> = []
    /// What each worker (by name, in registration order) said it runs, for the messages; the
    /// first `maxOfferings`, so peers registering under ever new names cannot grow it.
    private var offerings: [(worker: String, jobs: [String])] = []
    static let maxOfferings = 64
    /// An older worker that lists no job types registered: it may run anything, so nothing is
    /// failed for want of a worker (it reports a job it lacks as the trial's failure).
    private(set) var unlisted = false
    /// When stages no worker runs fail; nil until the first registration.
    private(set) var deadline: Date?
    /// Job types already said to be missing (said once), and whether the deadline has passed.
    private var said: Set<String> = []
    private(set) var settled = false

    mutating func register(worker: String, jobs: Set<String>?, now: Date, wait: TimeInterval) {
        if deadline == nil { deadline = now.addingTimeInterval(wait) }
        guard let jobs else { unlisted = true; return }
        offered.formUnion(jobs)
        let listed = jobs.sorted()
        if offerings.count < Self.maxOfferings, !offerings.contains(where: { $0.worker == worker && $0.jobs == listed }) {
            offerings.append((worker, listed))
        }
    }

    /// The job types in `needed` (job type -> stages, `TrialScheduler.unfinishedStages`) that no
    /// registered worker runs, sorted; empty while an unlisted worker is registered.
    func missing(_ needed: [String: Set<String>]) -> [String] {
        unlisted ? [] : needed.keys.filter { !offered.contains($0) }.sorted()
    }

    /// The missing job types not said before (each is said once).
    mutating func unsaid(_ missing: [String]) -> [String] {
        let new = missing.filter { !said.contains($0) }
        said.formUnion(new)
        return new
    }

    /// Job types said to be missing that a registered worker now runs (each said once).
    mutating func found() -> [String] {
        let found = said.intersection(offered).sorted()
        said.subtract(found)
        return found
    }

    /// The wait is over and not yet acted on.
    func isDue(_ now: Date) -> Bool { !settled && deadline.map { now >= $0 } == true }

    /// True once, when the wait is over: the caller fails what is still missing.
    mutating func settle(now: Date) -> Bool {
        guard isDue(now) else { return false }
        settled = true
        return true
    }

    /// What the registered workers run: "local-1 runs a, b; gpu-1, gpu-2 run c" (workers with
    /// the same job types together, at most 3 names per group).
    var offeringsText: String {
        var groups: [(jobs: [String], workers: [String])] = []
        for (worker, jobs) in offerings {
            if let index = groups.firstIndex(where: { $0.jobs == jobs }) {
                if !groups[index].workers.contains(worker) { groups[index].workers.append(worker) }
            } else {
                groups.append((jobs, [worker]))
            }
        }
        return groups.map { group in
            let names = group.workers.prefix(3).joined(separator: ", ") + (group.workers.count > 3 ? " and \(group.workers.count - 3) more" : "")
            return "\(names) run\(group.workers.count == 1 ? "s" : "") \(group.jobs.isEmpty ? "no job type" : group.jobs.joined(separator: ", "))"
        }.joined(separator: "; ")
    }
}
