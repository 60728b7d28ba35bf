import Cluster

/// Registers the study's roles as job types of `rt worker` (docs/STUDY.md).
public enum StudyJobs {
    public static func register(into registry: inout JobRegistry) {
        for role in StudyRole.allCases {
            registry.register(role.rawValue, ClosureJobHandler { context in
                let spec = try StudyTrialSpec(role: role, parameters: context.parameters, seed: context.seed)
                return try StudyTrial(spec: spec).run(parentCheckpoint: context.parentArtifact, cancellation: context.cancellation,
                                                      progress: context.progress)
            })
        }
        StudyAnalysisJob.register(into: &registry)
    }
}
