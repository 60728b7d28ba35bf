/// Long ("tidy") CSV: one row per group × metric with its n, mean and CI half-width, for
/// plotting or statistics elsewhere. Numbers are written in full (shortest round-trip form);
/// an absent interval (n = 1) is an empty cell; `epoch` is set on the learning curve's rows
/// (section `learning_curve`) only. The cluster summary is not part of it.
enum CSVRenderer {
    static let header = ["section", "task", "model", "stage", "variant", "baseline", "reference", "layer", "metric",
                         "attack", "norm", "eps_label", "eps", "steps", "n", "mean", "ci95_half_width", "epoch"]

    private struct Row {
        var section: String
        var task = "", model = "", stage = "", variant = "", baseline = "", reference = "", layer = ""
        var metric: String
        var attack: AttackSetting?
        var estimate: Estimate
        var epoch: Int? = nil

        var cells: [String] {
            [section, task, model, stage, variant, baseline, reference, layer, metric,
             attack?.attack ?? "", attack?.norm ?? "", attack?.epsLabel ?? "", attack.map { number($0.eps) } ?? "",
             attack.map { "\($0.steps)" } ?? "", "\(estimate.n)", number(estimate.mean), estimate.halfWidth.map(number) ?? "",
             epoch.map(String.init) ?? ""]
        }
    }

    static func render(_ report: StudyReport) -> String {
        var rows: [Row] = []
        for group in report.groups {
            func add(_ metric: String, _ estimate: Estimate?, _ attack: AttackSetting? = nil) {
                guard let estimate else { return }
                rows.append(Row(section: "group", task: group.task, model: group.model, stage: group.stage, variant: group.variant,
                                metric: metric, attack: attack, estimate: estimate))
            }
            add("clean_accuracy", group.cleanAccuracy)
            add("attacked_clean_accuracy", group.attackedCleanAccuracy)
            add("mean_true_confidence", group.meanTrueConfidence)
            add("worst_case_accuracy", group.worstCaseAccuracy)
            for attack in group.attacks {
                add("robust_accuracy", attack.robustAccuracy, attack.setting)
                add("success_rate", attack.successRate, attack.setting)
                add("mean_true_confidence_clean", attack.meanTrueConfidenceClean, attack.setting)
                add("mean_true_confidence_adv", attack.meanTrueConfidenceAdversarial, attack.setting)
            }
        }
        for group in report.groups {
            for point in group.learningCurve {
                for metric in EpochSummary.metrics {
                    guard let estimate = point[keyPath: metric.value] else { continue }
                    rows.append(Row(section: "learning_curve", task: group.task, model: group.model, stage: group.stage, variant: group.variant,
                                    metric: metric.key, estimate: estimate, epoch: point.epoch))
                }
            }
        }
        for difference in report.pairedDifferences {
            rows.append(Row(section: "paired_difference", task: difference.task, model: difference.model, stage: difference.stage,
                            variant: difference.variant, baseline: difference.baselineLabel,
                            metric: difference.metric.rawValue + "_difference", attack: difference.attack, estimate: difference.difference))
        }
        for cka in report.cka {
            rows.append(Row(section: "cka", stage: cka.stage, variant: cka.variant, reference: cka.reference, layer: cka.layer,
                            metric: "cka", estimate: cka.value))
            if let svcca = cka.svcca {
                rows.append(Row(section: "cka", stage: cka.stage, variant: cka.variant, reference: cka.reference, layer: cka.layer,
                                metric: "svcca", estimate: svcca))
            }
        }
        return ([header] + rows.map(\.cells) + CorruptionCSVRows.cells(report.corruptions)).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// RFC 4180: quote a field holding a separator, quote or line break; double inner quotes.
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func number(_ value: Double) -> String { value.isFinite ? "\(value)" : "" }
}
