/// Common-corruption results per group, and their corruption errors against `standard`.
enum CorruptionAggregation {
    static func summarize(_ groups: [TrialGroup]) -> [CorruptionGroupSummary] {
        let summaries = groups.compactMap(summary)
        return summaries.map { group in
            guard let baseline = baseline(for: group, among: summaries) else { return group }
            return withErrors(group, against: baseline)
        }
    }

    /// Means over the group's trials that measured corruptions (nil when none did).
    static func summary(_ group: TrialGroup) -> CorruptionGroupSummary? {
        let measured = group.trials.compactMap { trial in trial.metrics.corruptions.map { (trial, $0) } }
        guard !measured.isEmpty else { return nil }
        let metrics = measured.map(\.1)
        var kinds: [String] = []
        for m in metrics { for kind in m.kinds where !kinds.contains(kind) { kinds.append(kind) } }
        let severities = Set(metrics.flatMap { $0.results.map(\.severity) }).sorted()
        let kindSummaries = kinds.map { kind in
            CorruptionKindSummary(
                kind: kind, meanAccuracy: Estimate(metrics.compactMap { $0.meanAccuracy(kind: kind) })!,
                severities: severities.compactMap { severity in
                    let values = metrics.compactMap { $0.results.first { $0.kind == kind && $0.severity == severity }?.accuracy }
                    return Estimate(values).map { CorruptionSeveritySummary(severity: severity, accuracy: $0) }
                })
        }
        let perSeverity = severities.compactMap { severity -> CorruptionSeveritySummary? in
            let values = metrics.compactMap { m -> Double? in
                let own = m.results.filter { $0.severity == severity }.map(\.accuracy)
                return own.isEmpty ? nil : own.reduce(0, +) / Double(own.count)
            }
            return Estimate(values).map { CorruptionSeveritySummary(severity: severity, accuracy: $0) }
        }
        return CorruptionGroupSummary(
            task: group.key.task, model: group.key.model, stage: group.key.stage, variant: group.key.variant,
            seeds: measured.map(\.0.seed).sorted(), cleanAccuracy: Estimate(metrics.map(\.cleanAccuracy))!,
            meanAccuracy: Estimate(metrics.compactMap(\.meanOverKinds))!, kinds: kindSummaries, severities: perSeverity)
    }

    /// The `standard` group of the same task and model: the one with the same variant, else the only one.
    static func baseline(for group: CorruptionGroupSummary, among groups: [CorruptionGroupSummary]) -> CorruptionGroupSummary? {
        let standards = groups.filter { $0.task == group.task && $0.model == group.model && $0.stage == PairedDifference.baselineStage }
        return standards.first { $0.variant == group.variant } ?? (standards.count == 1 ? standards[0] : nil)
    }

    /// ImageNet-C's CE per kind with `standard` in AlexNet's place, from the groups' seed means:
    /// CE = Σ_s E_s / Σ_s E_s(standard) and the relative CE = Σ_s (E_s − E_clean) / Σ_s (E_s(standard) −
    /// E_clean(standard)), over the severities both measured; mCE and relative mCE average them over kinds.
    static func withErrors(_ group: CorruptionGroupSummary, against baseline: CorruptionGroupSummary) -> CorruptionGroupSummary {
        var out = group
        out.baseline = baseline.label
        let (clean, baselineClean) = (group.cleanAccuracy.mean, baseline.cleanAccuracy.mean)
        for (k, kind) in group.kinds.enumerated() {
            guard let other = baseline.kinds.first(where: { $0.kind == kind.kind }) else { continue }
            var (error, baselineError, rise, baselineRise) = (0.0, 0.0, 0.0, 0.0)
            var shared = 0
            for cell in kind.severities {
                guard let base = other.severities.first(where: { $0.severity == cell.severity }) else { continue }
                error += 1 - cell.accuracy.mean
                baselineError += 1 - base.accuracy.mean
                rise += clean - cell.accuracy.mean
                baselineRise += baselineClean - base.accuracy.mean
                shared += 1
            }
            guard shared > 0 else { continue }
            out.kinds[k].corruptionError = baselineError > 1e-12 ? error / baselineError : nil
            out.kinds[k].relativeCorruptionError = baselineRise > 1e-12 ? rise / baselineRise : nil
        }
        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        out.meanCorruptionError = mean(out.kinds.compactMap(\.corruptionError))
        out.relativeMeanCorruptionError = mean(out.kinds.compactMap(\.relativeCorruptionError))
        return out
    }
}
