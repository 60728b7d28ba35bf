import Cluster
import Foundation
import XCTest
@testable import Reports

/// AutoAttack in the study report: its column beside PGD's at the same budget, the gap between the
/// two in the headline, and the trials' sanity warnings in Markdown, HTML and the terminal summary.
final class AutoAttackReportTests: XCTestCase {
    private static let sweep = """
        name: autoattack
        seeds: [1, 2, 3, 4]
        stages:
          - {name: pretrain, job: pretrain, seeds: [1]}
          - {name: standard, job: standard}
          - {name: finetune, job: finetune, from: pretrain}
          - {name: dm, job: dm, from: pretrain}
        """
    /// PGD − AutoAttack at 8/255, the same on every seed (a known gap with no spread).
    static let gaps = ["pretrain": 0.01, "standard": 0.02, "finetune": 0.04, "dm": 0.10]
    static let squareWarning = "autoattack linf eps 0.0313725: Square lowered the robust accuracy the gradient attacks left from 0.4000 to 0.3000: the gradients are masked or misleading, trust the black-box number"

    /// The attacks of the default study in brief: PGD-10 and FGSM at 1/255 and 8/255, AutoAttack at
    /// 8/255, listed with AutoAttack first (reports must order them). dm seeds 2 and 4 raise the
    /// same Square warning; finetune seed 3 a warning of its own.
    private func study(extraWarnings: Int = 0) throws -> StudyStoreFixture {
        let fixture = try StudyStoreFixture(sweep: Self.sweep)
        for trial in try fixture.store.trials().map(\.spec) {
            let offset = Double(trial.seed) * 0.01
            let pgd8 = 0.6 - offset
            let attacks = [
                AttackValues(attack: "autoattack", eps: 8.0 / 255, epsLabel: "8/255", robust: pgd8 - Self.gaps[trial.stage]!, success: 0.4,
                             confidenceClean: 0.9, confidenceAdversarial: 0.3),
                AttackValues(eps: 8.0 / 255, epsLabel: "8/255", robust: pgd8, success: 0.3, confidenceClean: 0.9, confidenceAdversarial: 0.4),
                AttackValues(attack: "fgsm", eps: 8.0 / 255, epsLabel: "8/255", steps: 1, robust: pgd8 + 0.1, success: 0.2,
                             confidenceClean: 0.9, confidenceAdversarial: 0.5),
                AttackValues(eps: 1.0 / 255, epsLabel: "1/255", robust: 0.9 - offset, success: 0.05, confidenceClean: 0.9, confidenceAdversarial: 0.8),
            ]
            var metrics = studyMetrics(role: trial.job, task: trial.job == "pretrain" ? StudyStoreFixture.source : StudyStoreFixture.target,
                                       clean: 0.95 - offset, confidence: 0.9, attacks: attacks, worstCase: pgd8 - Self.gaps[trial.stage]!)
            var warnings: [String] = []
            if trial.stage == "dm" && [2, 4].contains(trial.seed) { warnings.append(Self.squareWarning) }
            if trial.stage == "finetune" && trial.seed == 3 {
                warnings.append("PGD-10 and APGD-CE disagree at linf eps 0.0313725 by more than 3 points (robust accuracy 0.5700 vs 0.5300): PGD overestimates robustness (too few steps, a badly chosen step size, or masked gradients)")
            }
            if trial.stage == "standard" { warnings += (0..<extraWarnings).map { "standard warning \($0) of seed \(trial.seed)" } }
            if !warnings.isEmpty { metrics["warnings"] = .array(warnings.map(JSONValue.string)) }
            try fixture.complete(trial.id, metrics)
        }
        return fixture
    }

    func testAutoAttackSitsBesidePGDAtItsBudget() throws {
        let fixture = try study()
        let report = try StudyReportBuilder.build(store: fixture.store)
        let table = StudyTables.accuracy(report.groups.filter { $0.task == StudyStoreFixture.target })
        XCTAssertEqual(Array(table.header.dropFirst(4)), ["fgsm linf 8/255 (1 step)", "pgd linf 1/255 (10 steps)", "pgd linf 8/255 (10 steps)",
                                                          "autoattack linf 8/255 (10 steps)", "worst case"])
        let markdown = try ReportFormat.markdown.render(report)
        // The headline's paired differences too: AutoAttack's row right under PGD's at 8/255 (finetune −
        // standard and dm − finetune: PGD sees no difference, AutoAttack the gaps' differences).
        let rows = markdown.split(separator: "\n").filter { $0.hasPrefix("| pgd linf 8/255") || $0.hasPrefix("| autoattack linf 8/255") }
        XCTAssertEqual(rows.count, 2, markdown)
        let headline = markdown.components(separatedBy: "\n## Sanity warnings")[0]
        XCTAssertTrue(headline.contains("| pgd linf 8/255 (10 steps) | 0.000 ± 0.000 | 0.000 ± 0.000 |"), headline)
        XCTAssertTrue(headline.contains("| autoattack linf 8/255 (10 steps) | −0.020 ± 0.000 | −0.060 ± 0.000 |"), headline)
        let lines = headline.split(separator: "\n")
        let pgd = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("| pgd linf 8/255 (10 steps) |") }, headline)
        XCTAssertTrue(lines[pgd + 1].hasPrefix("| autoattack linf 8/255 (10 steps) |"), headline)
    }

    /// PGD − AutoAttack per group, from the seeds: the fixture's gaps with no spread, and both accuracies' means.
    func testTheHeadlineShowsTheGapBetweenPGDAndAutoAttack() throws {
        let fixture = try study()
        let report = try StudyReportBuilder.build(store: fixture.store)
        XCTAssertEqual(report.attackGaps.map(\.stage), ["pretrain", "standard", "finetune", "dm"])
        for gap in report.attackGaps {
            XCTAssertEqual(gap.gap.mean, Self.gaps[gap.stage]!, accuracy: 1e-12, gap.stage)
            XCTAssertEqual(gap.pgd.attack, "pgd")
            XCTAssertEqual(gap.autoAttack.attack, "autoattack")
        }
        let dm = try XCTUnwrap(report.attackGaps.first { $0.stage == "dm" })
        XCTAssertEqual(dm.seeds, [1, 2, 3, 4])
        XCTAssertEqual(dm.pgdAccuracy.mean, 0.575, accuracy: 1e-12) // 0.6 − mean(0.01 … 0.04)
        XCTAssertEqual(dm.autoAttackAccuracy.mean, 0.475, accuracy: 1e-12)

        let markdown = try ReportFormat.markdown.render(report)
        let headline = markdown.components(separatedBy: "\n## Sanity warnings")[0]
        XCTAssertTrue(headline.contains("| role | pgd linf 8/255 (10 steps) | autoattack linf 8/255 (10 steps) | PGD − AutoAttack |"), headline)
        XCTAssertTrue(headline.contains("| dm | 0.575 ± 0.021 | 0.475 ± 0.021 | +0.100 ± 0.000 |"), headline)
        XCTAssertTrue(headline.contains("| standard | 0.575 ± 0.021 | 0.555 ± 0.021 | +0.020 ± 0.000 |"), headline)
        XCTAssertFalse(headline.contains("| pretrain |"), "the source task is not in the headline")

        let terminal = TerminalSummary.render(report)
        XCTAssertTrue(terminal.contains("PGD − AutoAttack"), terminal)
        XCTAssertTrue(terminal.contains("+0.100 ± 0.000"), terminal)
        XCTAssertLessThanOrEqual(terminal.split(separator: "\n").map(\.count).max() ?? 0, TerminalSummary.width, terminal)

        let json = try ReportFormat.json.render(report)
        XCTAssertTrue(json.contains("\"attack_gaps\""), json)
        XCTAssertEqual(try ClusterJSON.decode(StudyReport.self, from: Data(json.utf8)), report)
    }

    /// Each distinct warning once per group with the seeds that raised it, in every human-readable format.
    func testTheTrialsWarningsAreInEveryFormat() throws {
        let fixture = try study()
        let report = try StudyReportBuilder.build(store: fixture.store)
        XCTAssertEqual(report.warnings.map(\.stage), ["finetune", "dm"])
        XCTAssertEqual(report.warnings.map(\.seeds), [[3], [2, 4]])
        XCTAssertEqual(report.warnings[1].text, Self.squareWarning)
        XCTAssertEqual(report.warnings[1].trials, ["dm-0001", "dm-0003"])

        let markdown = try ReportFormat.markdown.render(report)
        XCTAssertTrue(markdown.contains("## Sanity warnings"), markdown)
        XCTAssertTrue(markdown.contains("raised 2 distinct warnings on 3 of the 13 study trials"), markdown)
        XCTAssertTrue(markdown.contains("| task | model | role | seeds | warning |"), markdown)
        XCTAssertTrue(markdown.contains("| fashion-mnist[5-9] | small-cnn | dm | seeds 2, 4 | \(Self.squareWarning) |"), markdown)
        // Right after the headline, before the wide tables.
        let order = ["## Headline", "## Sanity warnings", "## Accuracy on"].map { markdown.range(of: $0)!.lowerBound }
        XCTAssertEqual(order, order.sorted())

        let document = try XHTMLDocument(try ReportFormat.html.render(report))
        XCTAssertTrue(document.text.contains("Sanity warnings"))
        XCTAssertTrue(document.text.contains(Self.squareWarning), document.text)

        let terminal = TerminalSummary.render(report)
        let flowing = terminal.replacingOccurrences(of: "\n", with: " ")
        XCTAssertTrue(flowing.contains("dm on fashion-mnist[5-9], small-cnn, seeds 2, 4: \(Self.squareWarning)"), terminal)
        XCTAssertTrue(flowing.contains("finetune on fashion-mnist[5-9], small-cnn, seed 3: PGD-10 and APGD-CE disagree"), terminal)
        XCTAssertLessThanOrEqual(terminal.split(separator: "\n").map(\.count).max() ?? 0, TerminalSummary.width, terminal)
    }

    /// The terminal lists a bounded number; the files have every one.
    func testTheTerminalListsTheFirstWarningsAndCountsTheRest() throws {
        let fixture = try study(extraWarnings: 4)
        let report = try StudyReportBuilder.build(store: fixture.store)
        XCTAssertEqual(report.warnings.count, 2 + 16)
        let terminal = TerminalSummary.render(report)
        XCTAssertTrue(terminal.contains("… and \(18 - WarningSection.terminalLimit) more: report.md and report.html list them all."), terminal)
        XCTAssertFalse(terminal.contains(Self.squareWarning.prefix(40)), "dm's warning comes after standard's 16")
        let markdown = try ReportFormat.markdown.render(report)
        XCTAssertEqual(markdown.components(separatedBy: "standard warning ").count - 1, 16)
    }

    func testAStudyWithoutWarningsSaysSo() throws {
        let fixture = try StudyStoreFixture(sweep: "name: s\nseeds: [1, 2]\nstages:\n  - {name: standard, job: standard}\n")
        for trial in try fixture.store.trials().map(\.spec) {
            let attacks = [AttackValues(eps: 8.0 / 255, epsLabel: "8/255", robust: 0.5, success: 0.4, confidenceClean: 0.9, confidenceAdversarial: 0.4)]
            try fixture.complete(trial.id, studyMetrics(role: trial.job, task: StudyStoreFixture.target, clean: 0.9, confidence: 0.9,
                                                        attacks: attacks, worstCase: 0.5))
        }
        let report = try StudyReportBuilder.build(store: fixture.store)
        XCTAssertEqual(report.warnings, [])
        XCTAssertEqual(report.attackGaps, [], "no AutoAttack, no gap")
        XCTAssertTrue(TerminalSummary.render(report).contains("raised no warnings on the 2 study trials"))
        XCTAssertFalse(try ReportFormat.markdown.render(report).contains("PGD − AutoAttack"))
    }
}
