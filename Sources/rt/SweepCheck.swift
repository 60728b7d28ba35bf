import Cluster
import Foundation

/// What a coordinator would refuse in a sweep file, found before a launcher allocates
/// anything: it must parse, expand, and name only jobs this build's workers know.
enum SweepCheck {
    /// "SWEEP: sweep NAME, N trials in S stages (stage: job, ...)", or an error naming the file,
    /// line and key.
    static func summary(of path: String) throws -> (spec: SweepSpec, line: String) {
        let (spec, _) = try SweepParser.parse(contentsOf: URL(fileURLWithPath: path))
        try checkJobs(spec.stages, file: path)
        let trials = SweepExpander.count(spec) // a launcher's check need not build them
        let stages = spec.stages.map { "\($0.name): \($0.job)" }.joined(separator: ", ")
        return (spec, "\(path): sweep \(spec.name), \(trials) trials in \(spec.stages.count) stage\(spec.stages.count == 1 ? "" : "s") (\(stages))")
    }

    /// Every stage names a job type this build's workers register (`rt worker` builds the same
    /// registry), so `job: nosuchjob` is refused before a coordinator leases anything.
    static func checkJobs(_ stages: [StageSpec], file path: String) throws {
        let known = Set(WorkerCommand.jobRegistry().jobTypes)
        for stage in stages where !known.contains(stage.job) {
            throw CommandFailure("\(path): stage \(stage.name): unknown job '\(stage.job)'; this rt knows \(known.sorted().joined(separator: ", "))")
        }
    }
}
