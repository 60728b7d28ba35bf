/// What a human-readable report says, in order: Markdown and HTML render these same blocks
/// (HTML adds the figures).
enum ReportOutline {
    static let intervalNote = "Each cell is the mean over seeds ± the half-width of its 95% confidence interval "
        + "(Student t with n − 1 degrees of freedom: t(0.975, n − 1) · sd / √n). "
        + "\"no CI\" marks a mean of a single seed, which has no interval."

    static func blocks(_ report: StudyReport, figures: Bool) -> [ReportBlock] {
        var blocks: [ReportBlock] = [.heading(level: 1, text: "Study report: \(report.sweep)")]
        if report.hasStudyResults {
            blocks += study(report, figures: figures)
        } else {
            blocks.append(.paragraph("No study results: none of the done trials stores study metrics (a role and a task, docs/STUDY.md)"
                + (report.nonStudyTrials > 0 ? "; \(report.nonStudyTrials) done trials store other metrics." : ".")))
        }
        blocks += cluster(report)
        if !report.excludedTrials.isEmpty {
            blocks.append(.heading(level: 2, text: "Trials not in the study tables"))
            blocks.append(.paragraph("Not done, or done with study metrics that cannot be read: \(report.excludedTrials.count). "
                + "Their seeds are missing from the means above."))
            blocks.append(.table(ClusterTables.issues(report.excludedTrials)))
        }
        return blocks
    }

    private static func study(_ report: StudyReport, figures: Bool) -> [ReportBlock] {
        // The answer first; the wide tables it is drawn from follow.
        var blocks: [ReportBlock] = [.paragraph(intervalNote)] + HeadlineSection.blocks(report, figures: figures)
        blocks += WarningSection.blocks(report)
        let palette = RolePalette(labels: report.groups.map(\.label))
        for (task, model) in taskModels(report.groups) {
            let groups = report.groups.filter { $0.task == task && $0.model == model }
            blocks.append(.heading(level: 2, text: "Accuracy on \(task), \(model)"))
            blocks.append(.table(StudyTables.accuracy(groups)))
            if figures {
                for figure in StudyFigures.robustnessCurves(groups, palette: palette) { blocks.append(.figure(svg: figure.svg, caption: figure.caption)) }
                if let figure = StudyFigures.cleanVersusRobust(groups, palette: palette) { blocks.append(.figure(svg: figure.svg, caption: figure.caption)) }
            }
            if groups.contains(where: { $0.attacks.contains { $0.successRate != nil } }) {
                blocks.append(.heading(level: 3, text: "Attack success rate on \(task), \(model)"))
                blocks.append(.table(StudyTables.successRate(groups)))
            }
        }
        blocks += learningCurves(report, palette: palette, figures: figures)
        blocks.append(.heading(level: 2, text: "Paired differences"))
        if report.pairedDifferences.isEmpty {
            blocks.append(.paragraph("No stage is measured on the task and model of a stage named \"\(PairedDifference.baselineStage)\": no paired differences."))
        } else {
            blocks.append(.paragraph("Per seed, (stage − standard) on the same task and model, and (robust fine-tune − \(PairedDifference.headlineStage)), "
                + "then mean ± 95% CI over the paired seeds. "
                + "The headline, \(PairedDifference.headlineStage) − \(PairedDifference.baselineStage), comes first: "
                + "the paper finds fine-tuning raises clean accuracy and lowers robust accuracy."))
            blocks.append(.table(StudyTables.pairedDifferences(report.pairedDifferences)))
        }
        let confidence = StudyTables.confidence(report.groups)
        if !confidence.rows.isEmpty {
            blocks.append(.heading(level: 2, text: "Confidence in the true class"))
            blocks.append(.paragraph("Mean softmax probability of the true class: on the clean test set, and per attack on the attacked subset before (clean) and after (adversarial) the attack."))
            blocks.append(.table(confidence))
        }
        blocks += CorruptionTables.blocks(report.corruptions)
        if !report.cka.isEmpty {
            let svcca = StudyTables.svcca(report.cka)
            blocks.append(.heading(level: 2, text: svcca == nil ? "Representation similarity (linear CKA)" : "Representation similarity (linear CKA and SVCCA)"))
            if svcca != nil { blocks.append(.paragraph("Linear CKA (1 = the same representation up to rotation and scale):")) }
            blocks.append(.table(StudyTables.cka(report.cka)))
            if figures, let figure = StudyFigures.ckaHeatMap(report.cka) { blocks.append(.figure(svg: figure.svg, caption: figure.caption)) }
            if let svcca {
                blocks.append(.paragraph("SVCCA: the mean canonical correlation between the top singular directions that explain 99% of each model's variance (1 = the same representation up to an invertible linear map):"))
                blocks.append(.table(svcca))
                if figures, let figure = StudyFigures.svccaHeatMap(report.cka) { blocks.append(.figure(svg: figure.svg, caption: figure.caption)) }
            }
        }
        return blocks
    }

    /// Per task and model whose trials stored one: the learning curves (figures in HTML, a table
    /// per epoch in Markdown).
    private static func learningCurves(_ report: StudyReport, palette: RolePalette, figures: Bool) -> [ReportBlock] {
        var blocks: [ReportBlock] = []
        for (task, model) in taskModels(report.groups) {
            let groups = report.groups.filter { $0.task == task && $0.model == model && !$0.learningCurve.isEmpty }
            guard !groups.isEmpty else { continue }
            blocks.append(.heading(level: 2, text: "Learning curves on \(task), \(model)"))
            blocks.append(.paragraph("Per epoch, mean ± 95% CI over seeds: training loss and accuracy (running means over the epoch), "
                + "and, where the sweep asks for it (eval_every), accuracy and robust accuracy on a held-out validation split of the training data."))
            if figures {
                for figure in StudyFigures.learningCurves(groups, palette: palette) { blocks.append(.figure(svg: figure.svg, caption: figure.caption)) }
            } else {
                blocks.append(.table(StudyTables.learningCurves(groups)))
            }
        }
        return blocks
    }

    private static func cluster(_ report: StudyReport) -> [ReportBlock] {
        var blocks: [ReportBlock] = [.heading(level: 2, text: "Cluster"), .table(ClusterTables.overview(report.cluster))]
        if !report.cluster.hosts.isEmpty { blocks.append(.table(ClusterTables.workloads(report.cluster.hosts, kind: "host"))) }
        if !report.cluster.workers.isEmpty { blocks.append(.table(ClusterTables.workloads(report.cluster.workers, kind: "worker"))) }
        if !report.cluster.failures.isEmpty {
            blocks.append(.heading(level: 3, text: "Failures"))
            blocks.append(.table(ClusterTables.issues(report.cluster.failures)))
        }
        return blocks
    }

    /// One sentence per task and model: finetune − standard on clean accuracy and under the
    /// representative attack.
    static func headlines(_ differences: [PairedDifference]) -> [String] {
        var order: [String] = [], pairs: [String: [PairedDifference]] = [:]
        for difference in differences where difference.isHeadline {
            let key = [difference.task, difference.model, difference.label, difference.baselineLabel].joined(separator: "\u{1F}")
            if pairs[key] == nil { order.append(key) }
            pairs[key, default: []].append(difference)
        }
        return order.map { key in
            let pair = pairs[key]!, first = pair[0]
            let attack = AttackSetting.representative(of: pair.compactMap(\.attack))
            var parts: [String] = []
            if let clean = pair.first(where: { $0.metric == .cleanAccuracy }) {
                parts.append("clean accuracy \(NumberText.estimate(clean.difference, signed: true)) over \(clean.seeds.count) paired seeds")
            }
            if let attack, let robust = pair.first(where: { $0.attack == attack }) {
                parts.append("robust accuracy under \(attack.label) \(NumberText.estimate(robust.difference, signed: true)) over \(robust.seeds.count)")
            }
            return "Headline on \(first.task), \(first.model): \(first.label) − \(first.baselineLabel): " + parts.joined(separator: "; ") + "."
        }
    }

    /// The (task, model) pairs of the groups, in the groups' order.
    static func taskModels(_ groups: [StageGroupSummary]) -> [(task: String, model: String)] {
        var seen: [String] = [], out: [(task: String, model: String)] = []
        for group in groups where !seen.contains("\(group.task)\u{1F}\(group.model)") {
            seen.append("\(group.task)\u{1F}\(group.model)")
            out.append((group.task, group.model))
        }
        return out
    }
}
