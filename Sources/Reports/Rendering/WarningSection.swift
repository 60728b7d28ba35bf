/// The trials' sanity warnings (AutoAttack's checks, docs/ROBUSTNESS.md): a table per role and
/// distinct text in Markdown and HTML, wrapped paragraphs in `rt study`'s terminal summary. Each
/// one says that a number of the report should not be trusted as it is, so none is left out of the
/// files; the terminal shows the first `terminalLimit` and says how many more the files have.
enum WarningSection {
    static let title = "Sanity warnings"
    static let terminalLimit = 12

    static func blocks(_ report: StudyReport, forTerminal: Bool = false) -> [ReportBlock] {
        // A study that attacked nothing has nothing to check.
        guard !report.warnings.isEmpty || report.groups.contains(where: { !$0.attacks.isEmpty }) else { return [] }
        let trials = Set(report.groups.flatMap(\.trials)).count
        var blocks: [ReportBlock] = [.heading(level: 2, text: title)]
        guard !report.warnings.isEmpty else {
            blocks.append(.paragraph("The sanity checks (AutoAttack's, docs/ROBUSTNESS.md) raised no warnings on the \(trials) study trials."))
            return blocks
        }
        let raising = Set(report.warnings.flatMap(\.trials)).count
        blocks.append(.paragraph("The sanity checks (AutoAttack's, docs/ROBUSTNESS.md) raised \(report.warnings.count) distinct warnings on "
            + "\(raising) of the \(trials) study trials: the numbers they name should not be trusted as they are."))
        if forTerminal {
            for warning in report.warnings.prefix(terminalLimit) {
                blocks.append(.paragraph("\(place(warning)): \(warning.text)"))
            }
            if report.warnings.count > terminalLimit {
                blocks.append(.paragraph("… and \(report.warnings.count - terminalLimit) more: report.md and report.html list them all."))
            }
        } else {
            let rows = report.warnings.map { [$0.task, $0.model, $0.label, seedsText($0.seeds), $0.text] }
            blocks.append(.table(ReportTable(header: ["task", "model", "role", "seeds", "warning"], rows: rows)))
        }
        return blocks
    }

    private static func place(_ warning: TrialWarning) -> String {
        "\(warning.label) on \(warning.task), \(warning.model), \(seedsText(warning.seeds))"
    }

    private static func seedsText(_ seeds: [Int]) -> String {
        (seeds.count == 1 ? "seed " : "seeds ") + seeds.map(String.init).joined(separator: ", ")
    }
}
