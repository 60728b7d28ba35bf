/// The report's first section: the paper's question answered per task and model, before any
/// wide table. Fine-tuned minus standard (and each robust fine-tune minus plain fine-tuning) as
/// paired differences against eps, the clean and adversarial confidence in the true class, and
/// whether every fine-tune started from one source model.
enum HeadlineSection {
    static let title = "Headline"

    static func blocks(_ report: StudyReport, figures: Bool) -> [ReportBlock] {
        var blocks: [ReportBlock] = []
        // The source task (pre-training only) has nothing to compare: it is left to the details,
        // unless no task has, and then each says why.
        let compared = Set(report.pairedDifferences.map { "\($0.task)\u{1F}\($0.model)" })
        for (task, model) in ReportOutline.taskModels(report.groups) where compared.isEmpty || compared.contains("\(task)\u{1F}\(model)") {
            let groups = report.groups.filter { $0.task == task && $0.model == model }
            let differences = headlineDifferences(report.pairedDifferences.filter { $0.task == task && $0.model == model })
            blocks.append(.heading(level: 2, text: "\(title): \(task), \(model)"))
            blocks += ReportOutline.headlines(differences).map(ReportBlock.paragraph)
            if let note = sourcesNote(groups) { blocks.append(.paragraph(note)) }
            if differences.isEmpty {
                blocks.append(.paragraph("No paired differences on \(task), \(model): the study needs a stage named "
                    + "\"\(PairedDifference.baselineStage)\" beside the others (docs/STUDY.md)."))
            } else {
                blocks.append(.paragraph("Paired differences per seed, mean ± 95% CI over the paired seeds; below zero, the first-named "
                    + "model is less accurate than the second. Robust accuracy is measured on the attacked subset; its clean row is the clean accuracy of those same examples."))
                blocks.append(.table(differenceTable(differences)))
                if figures {
                    for figure in differenceFigures(differences, task: task, model: model) { blocks.append(.figure(svg: figure.svg, caption: figure.caption)) }
                }
            }
            let gaps = report.attackGaps.filter { $0.task == task && $0.model == model }
            if !gaps.isEmpty {
                blocks.append(.paragraph("Fixed-step PGD next to AutoAttack on the same examples: the gap (PGD − AutoAttack per seed, "
                    + "mean ± 95% CI) is robustness PGD claims and AutoAttack takes away; a large one means PGD overestimates it "
                    + "(too few steps, or masked gradients), most of all for robust objectives."))
                blocks += gapTables(gaps).map(ReportBlock.table)
            }
            if let confidence = confidenceTable(groups, comparing: differences) {
                blocks.append(.paragraph("Mean softmax probability of the true class on the attacked subset, before and after the attack "
                    + "(the paper's second finding: fine-tuned models are more confident on clean inputs and less on adversarial ones)."))
                blocks.append(.table(confidence))
            }
        }
        return blocks
    }

    /// finetune − standard and every robust fine-tune − finetune; when the study has neither,
    /// every stage − standard, so a study without a `finetune` stage still leads with an answer.
    static func headlineDifferences(_ differences: [PairedDifference]) -> [PairedDifference] {
        let chosen = differences.filter { $0.isHeadline || $0.baseline == PairedDifference.headlineStage }
        return chosen.isEmpty ? differences : chosen
    }

    /// Rows: clean accuracy (full test set, then attacked subset) and each attack; columns: the
    /// comparisons in order.
    static func differenceTable(_ differences: [PairedDifference]) -> ReportTable {
        let comparisons = orderedUnique(differences.map(\.comparisonLabel))
        let settings = orderedUnique(differences.compactMap(\.attack)).sorted()
        func cell(_ comparison: String, _ matches: (PairedDifference) -> Bool) -> String {
            NumberText.estimate(differences.first { $0.comparisonLabel == comparison && matches($0) }?.difference, signed: true)
        }
        var rows: [[String]] = []
        let cleanRows: [(String, PairedDifference.Metric)] = [("clean, full test set", .cleanAccuracy), ("clean, attacked subset", .attackedCleanAccuracy)]
        for (label, metric) in cleanRows where differences.contains(where: { $0.metric == metric }) {
            rows.append([label] + comparisons.map { comparison in cell(comparison) { $0.metric == metric } })
        }
        for setting in settings {
            rows.append([setting.label] + comparisons.map { comparison in cell(comparison) { $0.attack == setting } })
        }
        return ReportTable(header: ["accuracy"] + comparisons, rows: rows, numericColumns: Set(1...max(comparisons.count, 1)))
    }

    /// One figure per attack family: each comparison's difference against eps, around zero.
    static func differenceFigures(_ differences: [PairedDifference], task: String, model: String) -> [(svg: String, caption: String)] {
        let settings = orderedUnique(differences.compactMap(\.attack)).sorted()
        let families = orderedUnique(settings.map(\.family))
        let comparisons = orderedUnique(differences.map(\.comparisonLabel))
        let palette = RolePalette(labels: comparisons)
        return families.map { family in
            let members = settings.filter { $0.family == family }
            let series = comparisons.map { comparison in
                CategoryLinePlot.Series(label: comparison, colour: palette.colour(comparison), dash: palette.dash(comparison),
                                           points: members.indices.compactMap { index in
                    differences.first { $0.comparisonLabel == comparison && $0.attack == members[index] }.map { (index, $0.difference) }
                })
            }.filter { !$0.points.isEmpty }
            let plot = CategoryLinePlot(title: "Robust accuracy difference, \(family): \(task), \(model)", categories: members.map(\.epsLabel),
                                           series: series, yTitle: "difference in robust accuracy",
                                           yDomain: CategoryLinePlot.fittedDomain(series, including: 0), reference: 0)
            let first = comparisons.first ?? "A − B"
            return (plot.svg(), "Reading aid: below the dashed zero line the first-named model is less robust (\(first) below zero: "
                + "\(readingOf(first))). Paired differences per seed under \(family) on \(task) (\(model)); bars are 95% confidence intervals.")
        }
    }

    /// What "below zero" means for a comparison, in the study's words.
    private static func readingOf(_ comparison: String) -> String {
        comparison.hasPrefix("\(PairedDifference.headlineStage) − \(PairedDifference.baselineStage)")
            ? "fine-tuned is less robust than trained from scratch" : "the first is less robust than the second"
    }

    /// One table per (PGD setting, AutoAttack setting): rows the groups, columns both robust accuracies and the gap.
    static func gapTables(_ gaps: [AttackGap]) -> [ReportTable] {
        let pairs = orderedUnique(gaps.map { [$0.pgd, $0.autoAttack] })
        return pairs.map { pair in
            let rows = gaps.filter { [$0.pgd, $0.autoAttack] == pair }.map { gap in
                [gap.label, NumberText.estimate(gap.pgdAccuracy), NumberText.estimate(gap.autoAttackAccuracy), NumberText.estimate(gap.gap, signed: true)]
            }
            return ReportTable(header: ["role", pair[0].label, pair[1].label, "PGD − AutoAttack"], rows: rows, numericColumns: [1, 2, 3])
        }
    }

    /// Rows: the groups the comparisons name; columns: confidence in the true class on the clean
    /// and the adversarial inputs of the representative attack. nil when nothing was measured.
    static func confidenceTable(_ groups: [StageGroupSummary], comparing differences: [PairedDifference]) -> ReportTable? {
        guard let setting = AttackSetting.representative(of: StudyTables.settings(groups)) else { return nil }
        let named = Set(differences.flatMap { [$0.label, $0.baselineLabel] })
        let rows = groups.filter { named.isEmpty || named.contains($0.label) }.compactMap { group -> [String]? in
            guard let attack = group.attacks.first(where: { $0.setting == setting }),
                  attack.meanTrueConfidenceClean != nil || attack.meanTrueConfidenceAdversarial != nil else { return nil }
            return [group.label, NumberText.estimate(attack.meanTrueConfidenceClean), NumberText.estimate(attack.meanTrueConfidenceAdversarial)]
        }
        guard !rows.isEmpty else { return nil }
        return ReportTable(header: ["role", "confidence, clean", "confidence, \(setting.label)"], rows: rows, numericColumns: [1, 2])
    }

    /// "All 4 finetune trials start from one source model (pretrain-0000)", per stage that does.
    static func sourcesNote(_ groups: [StageGroupSummary]) -> String? {
        let shared = groups.filter(\.sharesOneSource)
        guard !shared.isEmpty else { return nil }
        let parts = shared.map { "all \($0.seeds.count) \($0.label) trials start from one source model (\($0.sources[0]))" }
        return "Seeds vary the fine-tuning, not the pre-training: " + parts.joined(separator: "; ") + "."
    }

    private static func orderedUnique<T: Hashable>(_ values: [T]) -> [T] {
        var seen = Set<T>()
        return values.filter { seen.insert($0).inserted }
    }
}
