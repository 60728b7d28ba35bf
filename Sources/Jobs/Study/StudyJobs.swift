import Cluster
import DataParallel
import Study

/// Registers the study's roles as job types of `rt worker` (docs/STUDY.md).
public enum StudyJobs {
    /// A role's stage may ask for `replicas: k`: the k replicas train together, joined by the
    /// ring all-reduce as the `train` job's are (default buckets and checksums), and rank 0
    /// measures the model and reports. A requeued data-parallel attempt starts its training over.
    public static func register(into registry: inout JobRegistry) {
        for role in StudyRole.allCases {
            registry.register(role.rawValue, ClosureJobHandler { context in
                let spec = try StudyTrialSpec(role: role, parameters: context.parameters, seed: context.seed)
                var trainer: StudyTrial.Trainer?
                if let slot = context.replica {
                    trainer = StudyTrial.Trainer(replicas: slot.worldSize, measures: slot.rank == 0) { run, report in
                        try Replica.train(run, in: slot, session: "\(context.trialID)/\(context.attempt)", report: report)
                    }
                }
                // A trial that trains alone stores a snapshot when told to stop and goes on from it;
                // data-parallel replicas start over from the parent (docs/STUDY.md).
                let snapshots = context.saveCheckpoint.map { save in StudyTrial.Snapshots(resume: context.resume, save: save) }
                return try StudyTrial(spec: spec).run(parentCheckpoint: context.parentArtifact, cancellation: context.cancellation,
                                                      progress: context.progress, trainer: trainer, snapshots: snapshots)
            })
        }
        StudyAnalysisJob.register(into: &registry)
    }
}
