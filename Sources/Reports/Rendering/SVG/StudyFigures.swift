/// Chooses what each figure shows from the report and hands it to the chart types.
enum StudyFigures {
    /// One robustness curve per attack family (attack, norm, steps) on one task and model.
    static func robustnessCurves(_ groups: [StageGroupSummary], palette: RolePalette) -> [(svg: String, caption: String)] {
        let settings = StudyTables.settings(groups)
        var families: [String] = []
        for setting in settings where !families.contains(setting.family) { families.append(setting.family) }
        return families.map { family in
            let members = settings.filter { $0.family == family } // already in eps order
            let series = groups.map { group in
                CategoryLinePlot.Series(label: group.label, colour: palette.colour(group.label), dash: palette.dash(group.label), points: members.indices.compactMap { index in
                    group.attacks.first { $0.setting == members[index] }.map { (index, $0.robustAccuracy) }
                })
            }.filter { !$0.points.isEmpty }
            let task = groups[0].task, model = groups[0].model
            let plot = CategoryLinePlot(title: "\(family): \(task), \(model)", categories: members.map(\.epsLabel), series: series)
            return (plot.svg(), "Robust accuracy against eps under \(family) on \(task) (\(model)); bars are 95% confidence intervals over seeds.")
        }
    }

    /// Clean against robust accuracy per role under the representative attack (the middle
    /// budget of PGD): the trade-off the paper's finding is about.
    static func cleanVersusRobust(_ groups: [StageGroupSummary], palette: RolePalette) -> (svg: String, caption: String)? {
        guard let setting = AttackSetting.representative(of: StudyTables.settings(groups)) else { return nil }
        let points = groups.compactMap { group in
            group.attacks.first { $0.setting == setting }.map {
                ScatterPlot.Point(label: group.label, colour: palette.colour(group.label), x: group.cleanAccuracy, y: $0.robustAccuracy)
            }
        }
        guard !points.isEmpty else { return nil }
        let task = groups[0].task, model = groups[0].model
        let plot = ScatterPlot(title: "Clean vs robust (\(setting.label)): \(task), \(model)",
                               xTitle: "clean accuracy", yTitle: "robust accuracy", points: points)
        return (plot.svg(), "Clean against robust accuracy under \(setting.label) on \(task) (\(model)), one point per role; bars are 95% confidence intervals.")
    }

    /// One figure per learning-curve metric that any role measured: mean over seeds against
    /// epochs, the 95% interval as a band.
    static func learningCurves(_ groups: [StageGroupSummary], palette: RolePalette) -> [(svg: String, caption: String)] {
        let epochs = Set(groups.flatMap { $0.learningCurve.map(\.epoch) }).sorted()
        guard !epochs.isEmpty else { return [] }
        let task = groups[0].task, model = groups[0].model
        return EpochSummary.metrics.filter { $0.key != "seconds" }.compactMap { metric in
            let series = groups.map { group in
                CategoryLinePlot.Series(label: group.label, colour: palette.colour(group.label), dash: palette.dash(group.label),
                                        points: group.learningCurve.compactMap { point in
                    point[keyPath: metric.value].map { (epochs.firstIndex(of: point.epoch)!, $0) }
                })
            }.filter { !$0.points.isEmpty }
            guard !series.isEmpty else { return nil }
            let accuracy = metric.key.hasSuffix("accuracy")
            let plot = CategoryLinePlot(title: "\(metric.title.prefix(1).uppercased() + metric.title.dropFirst()): \(task), \(model)",
                                        categories: epochs.map(String.init), series: series, yTitle: metric.title, xTitle: "epoch",
                                        band: true, yDomain: accuracy ? (0, 1) : CategoryLinePlot.fittedDomain(series, including: 0))
            let aid = metric.key == "train_loss" ? "lower is a better fit of the training data"
                : metric.key == "learning_rate" ? "the schedule each role trained with"
                : "higher is better; a gap to training accuracy is overfitting"
            return (plot.svg(), "Reading aid: \(aid). \(metric.title.prefix(1).uppercased() + metric.title.dropFirst()) per epoch on \(task) (\(model)), mean over seeds; the band is the 95% confidence interval.")
        }
    }

    static func ckaHeatMap(_ summaries: [CKASummary]) -> (svg: String, caption: String)? {
        let grid = CKAGrid(summaries)
        guard !grid.rows.isEmpty else { return nil }
        let map = HeatMap(title: "Linear CKA by layer", rows: grid.rows, columns: grid.layers) { grid.value(row: $0, layer: $1) }
        return (map.svg(), "Mean linear CKA between each model and its reference, per layer (1 = the same representation up to rotation and scale).")
    }

    /// nil when no trial measured SVCCA.
    static func svccaHeatMap(_ summaries: [CKASummary]) -> (svg: String, caption: String)? {
        guard summaries.contains(where: { $0.svcca != nil }) else { return nil }
        let grid = CKAGrid(summaries, measure: \.svcca)
        let map = HeatMap(title: "SVCCA by layer", rows: grid.rows, columns: grid.layers) { grid.value(row: $0, layer: $1) }
        return (map.svg(), "Mean SVCCA (mean canonical correlation of the directions keeping 99% of the variance) between each model and its reference, per layer.")
    }
}
