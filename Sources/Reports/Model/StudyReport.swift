/// Everything `rt report` shows about a run: the study's tables and the cluster's summary.
/// Codable with fixed snake_case keys; `ReportFormat.json` writes it with sorted keys.
public struct StudyReport: Codable, Equatable, Sendable {
    public var sweep: String
    public var confidenceLevel: Double
    /// Ordered by task, model, then stage in sweep order.
    public var groups: [StageGroupSummary]
    public var pairedDifferences: [PairedDifference]
    public var cka: [CKASummary]
    /// PGD − AutoAttack per group, wherever both ran at one norm and eps.
    public var attackGaps: [AttackGap]
    /// The trials' sanity warnings (AutoAttack's checks), per group and distinct text.
    public var warnings: [TrialWarning]
    /// Common corruptions per group, with the corruption errors relative to `standard`.
    public var corruptions: [CorruptionGroupSummary]
    public var cluster: ClusterSummary
    /// Trials left out of the study tables: not done (pending, leased, failed) or done with
    /// study metrics that cannot be read.
    public var excludedTrials: [TrialIssue]
    /// Done trials whose metrics are not study metrics (no `role` and `task`), e.g. toy jobs.
    public var nonStudyTrials: Int

    public var hasStudyResults: Bool { !groups.isEmpty }

    enum CodingKeys: String, CodingKey {
        case sweep, groups, cka, cluster, corruptions, warnings
        case attackGaps = "attack_gaps"
        case confidenceLevel = "confidence_level"
        case pairedDifferences = "paired_differences"
        case excludedTrials = "excluded_trials"
        case nonStudyTrials = "non_study_trials"
    }
}
