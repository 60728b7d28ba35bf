import Cluster
import Foundation
import XCTest
@testable import Reports

/// The report answers the study's question first: the headline section, clean accuracy beside
/// the robust columns of the same examples, a terminal summary that fits 100 columns.
final class HeadlineTests: XCTestCase {
    /// One source model fanned out to four target seeds, as the default study runs. The attacked
    /// subset is easier than the whole test set (0.97 against 0.95), which is how the old report
    /// came to show PGD at 1/255 above "clean".
    private static let sweep = """
        name: fanned
        seeds: [1, 2, 3, 4]
        stages:
          - {name: pretrain, job: pretrain, seeds: [1]}
          - {name: robust-pretrain, job: robust-pretrain, seeds: [1]}
          - {name: standard, job: standard}
          - {name: finetune, job: finetune, from: pretrain}
          - {name: dm, job: dm, from: robust-pretrain}
          - {name: trades, job: trades, from: robust-pretrain}
        """

    private func fannedStudy() throws -> StudyStoreFixture {
        let fixture = try StudyStoreFixture(sweep: Self.sweep)
        let robustDrop = ["pretrain": 0.0, "robust-pretrain": 0.0, "standard": 0.02, "finetune": 0.05, "dm": 0.03, "trades": 0.01]
        for trial in try fixture.store.trials().map(\.spec) {
            let offset = Double(trial.seed) * 0.002
            let attacks = [1, 8].map { eps in
                AttackValues(eps: Double(eps) / 255, epsLabel: "\(eps)/255", robust: 0.969 - offset - Double(eps - 1) * robustDrop[trial.stage]!,
                             success: 0.1, confidenceClean: 0.9 - offset, confidenceAdversarial: 0.5 - robustDrop[trial.stage]!)
            }
            var metrics = studyMetrics(role: trial.job, task: trial.job.hasSuffix("pretrain") ? StudyStoreFixture.source : StudyStoreFixture.target,
                                       clean: 0.95 - offset, confidence: 0.9, attacks: attacks, worstCase: 0.5)
            metrics["attacked_clean_accuracy"] = .double(0.97 - offset)
            metrics["attacked_examples"] = 300
            try fixture.complete(trial.id, metrics)
        }
        return fixture
    }

    func testTheFirstSectionIsTheHeadlineInEveryFormat() throws {
        let fixture = try fannedStudy()
        let report = try StudyReportBuilder.build(store: fixture.store)
        let markdown = try ReportFormat.markdown.render(report)
        let firstSection = try XCTUnwrap(markdown.split(separator: "\n").first { $0.hasPrefix("## ") })
        XCTAssertEqual(firstSection, "## Headline: fashion-mnist[5-9], small-cnn")
        XCTAssertTrue(markdown.contains("| accuracy | finetune − standard | dm − finetune | trades − finetune |"), markdown)
        // finetune − standard at 8/255: −7 · (0.05 − 0.02) on every seed, so no interval width.
        XCTAssertTrue(markdown.contains("| pgd linf 8/255 (10 steps) | −0.210 ± 0.000 | +0.140 ± 0.000 | +0.280 ± 0.000 |"), markdown)
        XCTAssertTrue(markdown.contains("all 4 finetune trials start from one source model (pretrain-0000); all 4 dm trials start from one source model (robust-pretrain-0000)"), markdown)
        XCTAssertTrue(markdown.contains("| role | confidence, clean | confidence, pgd linf 1/255 (10 steps) |"), markdown)

        let document = try XHTMLDocument(try ReportFormat.html.render(report))
        let lines = document.text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        XCTAssertEqual(Array(lines.prefix(4)), ["Study report: fanned", "Study report: fanned", "Contents", "Headline: fashion-mnist[5-9], small-cnn"],
                       "title, heading, then the contents list, which names the headline first")
        XCTAssertTrue(document.text.contains("Reading aid: below the dashed zero line the first-named model is less robust (finetune − standard below zero: fine-tuned is less robust than trained from scratch)"))

        let terminal = TerminalSummary.render(report)
        XCTAssertTrue(terminal.hasPrefix("Study: fanned\n\nHeadline: fashion-mnist[5-9], small-cnn\n"), terminal)
    }

    /// Every robust column sits right of the clean accuracy of the same examples, and never
    /// above it; the clean accuracy of the whole test set is labelled as such.
    func testNoRobustColumnExceedsTheCleanColumnBesideIt() throws {
        let fixture = try fannedStudy()
        let report = try StudyReportBuilder.build(store: fixture.store)
        let table = StudyTables.accuracy(report.groups.filter { $0.task == StudyStoreFixture.target })
        XCTAssertEqual(Array(table.header.prefix(5)), ["role", "n", "clean, full test set (5000)", "clean, attacked subset (300)", "pgd linf 1/255 (10 steps)"])
        let attacked = try XCTUnwrap(table.header.firstIndex { $0.hasPrefix("clean, attacked subset") })
        let robust = table.header.indices.filter { table.header[$0].hasPrefix("pgd") }
        XCTAssertFalse(robust.isEmpty)
        for row in table.rows {
            let clean = try XCTUnwrap(Double(row[attacked].prefix(5)), row[attacked])
            for column in robust { XCTAssertLessThanOrEqual(try XCTUnwrap(Double(row[column].prefix(5))), clean, "\(row[0]) \(table.header[column])") }
            // The bug this guards against: on the whole test set clean reads below robust at 1/255.
            XCTAssertGreaterThan(try XCTUnwrap(Double(row[robust[0]].prefix(5))), try XCTUnwrap(Double(row[2].prefix(5))))
        }
    }

    func testTheTerminalSummaryFitsOneHundredColumnsHoweverManyComparisons() throws {
        var text = "name: wide\nseeds: [1, 2, 3]\nstages:\n  - {name: pretrain, job: pretrain}\n  - {name: standard, job: standard}\n"
            + "  - {name: finetune, job: finetune, from: pretrain}\n"
        let robust = ["dm-from-the-robust-source", "trades-from-the-robust-source", "adv-finetune-long-name", "dm-plain-source"]
        for (index, name) in robust.enumerated() {
            text += "  - {name: \(name), job: \(["dm", "trades", "adv-finetune", "dm"][index]), from: pretrain}\n"
        }
        let fixture = try StudyStoreFixture(sweep: text)
        for trial in try fixture.store.trials().map(\.spec) {
            let attacks = [1, 2, 4, 8, 16, 32].map { eps in
                AttackValues(eps: Double(eps) / 255, epsLabel: "\(eps)/255", robust: 0.9 - Double(eps) * 0.02 - Double(trial.seed) * 0.01,
                             success: 0.1, confidenceClean: 0.9, confidenceAdversarial: 0.4)
            }
            try fixture.complete(trial.id, studyMetrics(role: trial.job, task: trial.job == "pretrain" ? StudyStoreFixture.source : StudyStoreFixture.target,
                                                        clean: 0.95 - Double(trial.seed) * 0.01, confidence: 0.9, attacks: attacks, worstCase: 0.1))
        }
        let terminal = TerminalSummary.render(try StudyReportBuilder.build(store: fixture.store))
        let widest = terminal.split(separator: "\n").map(\.count).max() ?? 0
        XCTAssertLessThanOrEqual(widest, TerminalSummary.width, terminal)
        for name in robust { XCTAssertTrue(terminal.contains("\(name) − finetune"), "\(name) is in a column block: \(terminal)") }
        XCTAssertTrue(terminal.contains("pgd linf 32/255 (10 steps)"), terminal)
    }

    func testAStudyWithoutFineTuningStillLeadsWithItsDifferencesAndOneWithoutStandardSaysWhy() throws {
        let fixture = try StudyStoreFixture(sweep: "name: s\nseeds: [1, 2]\nstages:\n  - {name: standard, job: standard}\n  - {name: trades, job: trades}\n")
        for trial in try fixture.store.trials().map(\.spec) {
            try fixture.complete(trial.id, studyMetrics(role: trial.job, task: StudyStoreFixture.target, clean: 0.9 - Double(trial.seed) * 0.01,
                                                        confidence: 0.9, attacks: [], worstCase: nil))
        }
        let markdown = try ReportFormat.markdown.render(StudyReportBuilder.build(store: fixture.store))
        XCTAssertTrue(markdown.contains("| accuracy | trades − standard |"), markdown)

        let lonely = try StudyStoreFixture(sweep: "name: s\nseeds: [1]\nstages:\n  - {name: finetune, job: standard}\n")
        try lonely.complete("finetune-0000", studyMetrics(role: "standard", task: StudyStoreFixture.target, clean: 0.9, confidence: 0.9, attacks: [], worstCase: nil))
        let alone = TerminalSummary.render(try StudyReportBuilder.build(store: lonely.store))
        XCTAssertTrue(alone.contains("the study needs a stage named \"standard\""), alone)
    }
}
