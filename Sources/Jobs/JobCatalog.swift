import Cluster

/// Every job type `rt worker` runs (docs/STUDY.md, docs/DATA_PARALLEL.md): the study's roles,
/// the `cka` analysis and the `train` job. The cluster's own test jobs (`noop`, `sleep`, ...)
/// stay with the protocol in Cluster, since its tests and `rt bench cluster` run them alone.
public enum JobCatalog {
    public static func register(into registry: inout JobRegistry) {
        StudyJobs.register(into: &registry)
        registry.register("train", TrainJob())
    }
}
