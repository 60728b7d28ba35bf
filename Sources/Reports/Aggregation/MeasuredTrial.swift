import StudyMetrics

/// A done trial with readable study metrics, placed in its group.
struct MeasuredTrial {
    var id: String
    var stage: String
    var seed: Int
    var variant: String
    /// The trial whose model it started from (the first parent), nil for a root stage.
    var parent: String?
    var metrics: StudyTrialMetrics

    var groupKey: GroupKey { GroupKey(task: metrics.task, model: metrics.model, stage: stage, variant: variant) }
}

/// Trials of one stage (and variant) on one task and model: the replicates a group averages.
struct GroupKey: Hashable {
    var task: String
    var model: String
    var stage: String
    var variant: String
}

struct TrialGroup {
    var key: GroupKey
    var trials: [MeasuredTrial]
}
