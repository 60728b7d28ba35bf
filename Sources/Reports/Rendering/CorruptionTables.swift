/// The report's common-corruption section: per task and model, accuracy per kind (mean over
/// severities) and per severity (mean over kinds), then the corruption errors against `standard`.
enum CorruptionTables {
    static func blocks(_ groups: [CorruptionGroupSummary]) -> [ReportBlock] {
        guard !groups.isEmpty else { return [] }
        var blocks: [ReportBlock] = []
        var pairs: [String] = []
        for g in groups where !pairs.contains("\(g.task)\u{1F}\(g.model)") { pairs.append("\(g.task)\u{1F}\(g.model)") }
        for pair in pairs {
            let own = groups.filter { "\($0.task)\u{1F}\($0.model)" == pair }
            blocks.append(.heading(level: 2, text: "Common corruptions on \(own[0].task), \(own[0].model)"))
            blocks.append(.paragraph("Accuracy on corrupted test images (ImageNet-C's functions with CIFAR-10-C's severities, "
                + "docs/ROBUSTNESS.md), on the attacked subset: per kind the mean over its severities, then mean ± 95% CI over seeds; "
                + "\"mean\" is the mean corruption accuracy (the mean over kinds)."))
            blocks.append(.table(accuracy(own)))
            blocks.append(.table(severities(own)))
            if own.contains(where: { $0.baseline != nil }) {
                blocks.append(.paragraph("Corruption error against standard per kind, from the seed means (E = 1 − accuracy, over the "
                    + "severities both measured): CE = Σ E / Σ E(standard), and in brackets the relative CE = Σ (E − E_clean) / "
                    + "Σ (E(standard) − E_clean(standard)); mCE and relative mCE are their means over kinds. Below 1: fewer errors than "
                    + "standard. n/a: standard's error does not rise under that corruption."))
                blocks.append(.table(errors(own)))
            }
        }
        return blocks
    }

    static func accuracy(_ groups: [CorruptionGroupSummary]) -> ReportTable {
        let kinds = orderedKinds(groups)
        let rows = groups.map { g in
            [g.label, NumberText.estimate(g.cleanAccuracy)]
                + kinds.map { kind in NumberText.estimate(g.kinds.first { $0.kind == kind }?.meanAccuracy) }
                + [NumberText.estimate(g.meanAccuracy)]
        }
        return ReportTable(header: ["stage", "clean (subset)"] + kinds + ["mean"], rows: rows, numericColumns: Set(1...(kinds.count + 2)))
    }

    static func severities(_ groups: [CorruptionGroupSummary]) -> ReportTable {
        let levels = Set(groups.flatMap { $0.severities.map(\.severity) }).sorted()
        let rows = groups.map { g in
            [g.label] + levels.map { level in NumberText.estimate(g.severities.first { $0.severity == level }?.accuracy) }
        }
        return ReportTable(header: ["stage"] + levels.map { "severity \($0)" }, rows: rows, numericColumns: Set(1...max(levels.count, 1)))
    }

    static func errors(_ groups: [CorruptionGroupSummary]) -> ReportTable {
        let kinds = orderedKinds(groups)
        func pair(_ ce: Double?, _ relative: Double?) -> String {
            guard let ce else { return NumberText.missing }
            return "\(NumberText.fixed(ce)) (\(relative.map { NumberText.fixed($0) } ?? "n/a"))"
        }
        let rows = groups.filter { $0.baseline != nil }.map { g in
            [g.label, pair(g.meanCorruptionError, g.relativeMeanCorruptionError)]
                + kinds.map { kind in
                    let k = g.kinds.first { $0.kind == kind }
                    return pair(k?.corruptionError, k?.relativeCorruptionError)
                }
        }
        return ReportTable(header: ["stage", "mCE (relative)"] + kinds, rows: rows, numericColumns: Set(1...(kinds.count + 1)))
    }

    static func orderedKinds(_ groups: [CorruptionGroupSummary]) -> [String] {
        var kinds: [String] = []
        for g in groups { for k in g.kinds where !kinds.contains(k.kind) { kinds.append(k.kind) } }
        return kinds
    }
}
