/// The common-corruption rows of the long CSV (section `corruption`), in its columns by name (so a
/// column added to `CSVRenderer.header` is an empty cell here): the kind in `attack`, the severity in
/// `eps_label` (empty: the mean over severities; `attack` empty: over kinds), `norm`, `eps` and
/// `steps` empty. The corruption errors (`corruption_error`,
/// `relative_corruption_error`, `baseline` set) come from the seed means: no interval.
enum CorruptionCSVRows {
    static func cells(_ groups: [CorruptionGroupSummary]) -> [[String]] {
        var rows: [[String]] = []
        for g in groups {
            func add(_ metric: String, kind: String = "", severity: String = "", baseline: String = "", n: Int, mean: Double, halfWidth: Double?) {
                guard mean.isFinite else { return }
                let cells = ["section": "corruption", "task": g.task, "model": g.model, "stage": g.stage, "variant": g.variant,
                             "baseline": baseline, "metric": metric, "attack": kind, "eps_label": severity, "n": "\(n)", "mean": "\(mean)",
                             "ci95_half_width": halfWidth.map { "\($0)" } ?? ""]
                rows.append(CSVRenderer.header.map { cells[$0] ?? "" })
            }
            func add(_ metric: String, kind: String = "", severity: String = "", _ e: Estimate) {
                add(metric, kind: kind, severity: severity, n: e.n, mean: e.mean, halfWidth: e.halfWidth)
            }
            add("corruption_clean_accuracy", g.cleanAccuracy)
            add("mean_corruption_accuracy", g.meanAccuracy)
            for s in g.severities { add("corruption_accuracy", severity: "\(s.severity)", s.accuracy) }
            for k in g.kinds {
                add("corruption_accuracy", kind: k.kind, k.meanAccuracy)
                for s in k.severities { add("corruption_accuracy", kind: k.kind, severity: "\(s.severity)", s.accuracy) }
            }
            guard let baseline = g.baseline else { continue }
            let n = g.seeds.count
            for k in g.kinds {
                if let ce = k.corruptionError { add("corruption_error", kind: k.kind, baseline: baseline, n: n, mean: ce, halfWidth: nil) }
                if let r = k.relativeCorruptionError { add("relative_corruption_error", kind: k.kind, baseline: baseline, n: n, mean: r, halfWidth: nil) }
            }
            if let m = g.meanCorruptionError { add("mean_corruption_error", baseline: baseline, n: n, mean: m, halfWidth: nil) }
            if let m = g.relativeMeanCorruptionError { add("relative_mean_corruption_error", baseline: baseline, n: n, mean: m, halfWidth: nil) }
        }
        return rows
    }
}
