import StudyMetrics

/// How reports read a trial's `corruptions` metrics (the record is StudyMetrics').
extension CorruptionMetrics {
    /// A re-evaluation's corruptions joined to its trial's, as its attacks are: the (kind, severity)
    /// pairs the trial lacks are added; the trial's own results and clean accuracy stay.
    static func folding(_ extra: CorruptionMetrics?, into own: CorruptionMetrics?) -> CorruptionMetrics? {
        guard let extra else { return own }
        guard var own else { return extra }
        for r in extra.results where !own.results.contains(where: { $0.kind == r.kind && $0.severity == r.severity }) { own.results.append(r) }
        return own
    }

    /// Kinds in the order they were measured.
    var kinds: [String] {
        var seen: [String] = []
        for r in results where !seen.contains(r.kind) { seen.append(r.kind) }
        return seen
    }

    /// Mean accuracy over the severities of one kind.
    func meanAccuracy(kind: String) -> Double? {
        let own = results.filter { $0.kind == kind }.map(\.accuracy)
        return own.isEmpty ? nil : own.reduce(0, +) / Double(own.count)
    }

    /// Mean over kinds of each kind's mean over severities (the report's mean corruption
    /// accuracy; the stored `meanAccuracy` is over every result).
    var meanOverKinds: Double? {
        let means = kinds.compactMap(meanAccuracy(kind:))
        return means.isEmpty ? nil : means.reduce(0, +) / Double(means.count)
    }
}

/// One group's accuracy under common corruptions, over its seeds, and its corruption errors
/// against the `standard` group of the same task and model (docs/STUDY.md defines them).
public struct CorruptionGroupSummary: Codable, Equatable, Sendable {
    public var task: String
    public var model: String
    public var stage: String
    public var variant: String
    public var seeds: [Int]
    /// Clean accuracy on the corrupted examples.
    public var cleanAccuracy: Estimate
    /// Mean corruption accuracy: per trial the mean over kinds of each kind's mean over severities.
    public var meanAccuracy: Estimate
    public var kinds: [CorruptionKindSummary]
    /// Per severity, the mean over kinds.
    public var severities: [CorruptionSeveritySummary]
    /// The label of the `standard` group the errors are relative to (nil: none on this task and model).
    public var baseline: String?
    /// Mean over kinds of `corruptionError` (ImageNet-C's mCE with `standard` as the baseline model).
    public var meanCorruptionError: Double?
    /// Mean over kinds of `relativeCorruptionError`.
    public var relativeMeanCorruptionError: Double?

    public var label: String { StageLabel.text(stage: stage, variant: variant) }

    enum CodingKeys: String, CodingKey {
        case task, model, stage, variant, seeds, kinds, severities, baseline
        case cleanAccuracy = "clean_accuracy", meanAccuracy = "mean_accuracy"
        case meanCorruptionError = "mean_corruption_error", relativeMeanCorruptionError = "relative_mean_corruption_error"
    }
}

public struct CorruptionKindSummary: Codable, Equatable, Sendable {
    public var kind: String
    /// Per trial the mean over this kind's severities, then over seeds.
    public var meanAccuracy: Estimate
    public var severities: [CorruptionSeveritySummary]
    /// Σ_s E_s / Σ_s E_s(standard), E = 1 − accuracy (mean over seeds), over the severities both measured.
    public var corruptionError: Double?
    /// Σ_s (E_s − E_clean) / Σ_s (E_s(standard) − E_clean(standard)); nil when standard's error does not rise.
    public var relativeCorruptionError: Double?

    enum CodingKeys: String, CodingKey {
        case kind, severities
        case meanAccuracy = "mean_accuracy", corruptionError = "corruption_error", relativeCorruptionError = "relative_corruption_error"
    }
}

public struct CorruptionSeveritySummary: Codable, Equatable, Sendable {
    public var severity: Int
    public var accuracy: Estimate
}
