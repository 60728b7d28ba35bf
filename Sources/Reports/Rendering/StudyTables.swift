/// The study's tables: accuracy and success rate per task and model, paired differences,
/// confidence and CKA. Cells are `mean ± half-width` (NumberText.estimate).
enum StudyTables {
    /// The attacks measured by any of the groups, in attack-then-eps order.
    static func settings(_ groups: [StageGroupSummary]) -> [AttackSetting] {
        Set(groups.flatMap { $0.attacks.map(\.setting) }).sorted()
    }

    /// Rows: the roles measured on one task and model; columns: clean accuracy on the full test
    /// set, clean accuracy on the attacked subset (the examples of every robust column after it,
    /// so no robust cell reads above the clean one beside it), each attack, worst case.
    static func accuracy(_ groups: [StageGroupSummary]) -> ReportTable {
        let settings = settings(groups)
        let hasWorstCase = groups.contains { $0.worstCaseAccuracy != nil }
        let hasSubset = groups.contains { $0.attackedCleanAccuracy != nil }
        let rows = groups.map { group -> [String] in
            [group.label, "\(group.trials.count)", NumberText.estimate(group.cleanAccuracy)]
                + (hasSubset ? [NumberText.estimate(group.attackedCleanAccuracy)] : [])
                + settings.map { setting in NumberText.estimate(group.attacks.first { $0.setting == setting }?.robustAccuracy) }
                + (hasWorstCase ? [NumberText.estimate(group.worstCaseAccuracy)] : [])
        }
        func examples(_ count: (StageGroupSummary) -> Int?) -> String {
            let counts = Set(groups.map(count))
            guard counts.count == 1, let only = counts.first, let only else { return "" }
            return " (\(only))"
        }
        let header = ["role", "n", "clean, full test set" + examples(\.cleanExamples)]
            + (hasSubset ? ["clean, attacked subset" + examples(\.attackedExamples)] : [])
            + settings.map(\.label) + (hasWorstCase ? ["worst case"] : [])
        return ReportTable(header: header, rows: rows, numericColumns: Set(1..<header.count))
    }

    static func successRate(_ groups: [StageGroupSummary]) -> ReportTable {
        let settings = settings(groups)
        let rows = groups.map { group in
            [group.label] + settings.map { setting in NumberText.estimate(group.attacks.first { $0.setting == setting }?.successRate) }
        }
        return ReportTable(header: ["role"] + settings.map(\.label), rows: rows, numericColumns: Set(1...max(settings.count, 1)))
    }

    static func pairedDifferences(_ differences: [PairedDifference]) -> ReportTable {
        let rows = differences.map { difference in
            [difference.task, difference.model, "\(difference.label) − \(difference.baselineLabel)", difference.metricLabel,
             "\(difference.seeds.count)", NumberText.estimate(difference.difference, signed: true),
             difference.seeds.map(String.init).joined(separator: " ")]
        }
        return ReportTable(header: ["task", "model", "difference", "metric", "pairs", "mean ± 95% CI", "seeds"],
                           rows: rows, numericColumns: [4, 5])
    }

    /// Mean probability of the true class: on the clean test set, then per attack on the attacked
    /// subset before and after the attack.
    static func confidence(_ groups: [StageGroupSummary]) -> ReportTable {
        var rows: [[String]] = []
        for group in groups {
            if let clean = group.meanTrueConfidence {
                rows.append([group.task, group.model, group.label, "clean test set", NumberText.estimate(clean), NumberText.missing])
            }
            for attack in group.attacks where attack.meanTrueConfidenceClean != nil || attack.meanTrueConfidenceAdversarial != nil {
                rows.append([group.task, group.model, group.label, attack.setting.label,
                             NumberText.estimate(attack.meanTrueConfidenceClean), NumberText.estimate(attack.meanTrueConfidenceAdversarial)])
            }
        }
        return ReportTable(header: ["task", "model", "role", "inputs", "clean", "adversarial"], rows: rows, numericColumns: [4, 5])
    }

    /// Rows: each role's epochs; columns: the learning-curve metrics any role measured.
    static func learningCurves(_ groups: [StageGroupSummary]) -> ReportTable {
        let metrics = EpochSummary.metrics.filter { metric in groups.contains { $0.learningCurve.contains { $0[keyPath: metric.value] != nil } } }
        let rows = groups.flatMap { group in
            group.learningCurve.map { point in [group.label, "\(point.epoch)"] + metrics.map { NumberText.estimate(point[keyPath: $0.value]) } }
        }
        return ReportTable(header: ["role", "epoch"] + metrics.map(\.title), rows: rows, numericColumns: Set(1..<(2 + metrics.count)))
    }

    /// Rows: a model against its reference; columns: layers in model order.
    static func cka(_ summaries: [CKASummary]) -> ReportTable { similarity(CKAGrid(summaries)) }

    /// The same grid with SVCCA; nil when no trial measured it.
    static func svcca(_ summaries: [CKASummary]) -> ReportTable? {
        guard summaries.contains(where: { $0.svcca != nil }) else { return nil }
        return similarity(CKAGrid(summaries, measure: \.svcca))
    }

    private static func similarity(_ grid: CKAGrid) -> ReportTable {
        let rows = grid.rows.map { row in
            [row] + grid.layers.map { layer in NumberText.estimate(grid.value(row: row, layer: layer)) }
        }
        return ReportTable(header: ["model vs reference"] + grid.layers, rows: rows, numericColumns: Set(1...max(grid.layers.count, 1)))
    }
}

/// CKA (or SVCCA) summaries arranged as rows (model vs reference) by layers, in first-seen order.
struct CKAGrid {
    var rows: [String] = []
    var layers: [String] = []
    private var values: [String: [String: Estimate]] = [:]

    init(_ summaries: [CKASummary], measure: KeyPath<CKASummary, Estimate?> = \.linearCKA) {
        for summary in summaries {
            if values[summary.pairLabel] == nil { rows.append(summary.pairLabel) }
            if !layers.contains(summary.layer) { layers.append(summary.layer) }
            values[summary.pairLabel, default: [:]][summary.layer] = summary[keyPath: measure]
        }
    }

    func value(row: String, layer: String) -> Estimate? { values[row]?[layer] }
}
