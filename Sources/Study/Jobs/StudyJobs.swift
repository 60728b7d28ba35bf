import Cluster
import NeuralNetworks

/// Trains one replica of a data-parallel study trial (`replicas: k` on its stage): the
/// DataParallel module provides it, as Study cannot depend on it.
public typealias ReplicatedStudyTraining = (_ context: JobContext, _ run: TrainingRun, _ checkpointPath: String,
                                            _ report: (TrainingEvent) throws -> Void) throws -> (model: ImageClassifier, summary: TrainingSummary)

/// Registers the study's roles as job types of `rt worker` (docs/STUDY.md).
public enum StudyJobs {
    /// With `replicated`, a role's stage may ask for `replicas: k`: the k replicas train together
    /// and rank 0 measures the model and reports; without it such a trial fails with the reason.
    public static func register(into registry: inout JobRegistry, replicated: ReplicatedStudyTraining? = nil) {
        for role in StudyRole.allCases {
            registry.register(role.rawValue, ClosureJobHandler { context in
                let spec = try StudyTrialSpec(role: role, parameters: context.parameters, seed: context.seed)
                var trainer: StudyTrial.Trainer?
                if let slot = context.replica {
                    guard let replicated else {
                        throw JobError("\(role.rawValue) with replicas: \(slot.worldSize): this worker cannot train data-parallel")
                    }
                    trainer = StudyTrial.Trainer(replicas: slot.worldSize, measures: slot.rank == 0) { run, path, report in
                        try replicated(context, run, path, report)
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
