import Cluster
import XCTest
@testable import Reports

final class ReportEdgeCaseTests: XCTestCase {
    /// One seed: a study trial, a toy trial, a study trial with broken metrics, one never run.
    static let mixedSweep = """
        name: mixed
        seeds: [7]
        stages:
          - {name: standard, job: standard}
          - {name: toy, job: sleep}
          - {name: broken, job: finetune}
          - {name: waiting, job: dm}
        """

    static func mixedStore() throws -> StudyStoreFixture {
        let fixture = try StudyStoreFixture(sweep: mixedSweep)
        let attack = AttackValues(eps: 8.0 / 255, epsLabel: "8/255", robust: 0.25, success: 0.6, confidenceClean: 0.8, confidenceAdversarial: 0.3)
        // A task name with markup characters: every renderer must escape it.
        try fixture.complete("standard-0000", studyMetrics(role: "standard", task: "cifar<10>&\"co\"", clean: 0.42, confidence: 0.7,
                                                          attacks: [attack], worstCase: 0.2))
        try fixture.complete("toy-0000", ["slept": .double(0.1)])
        var broken = studyMetrics(role: "finetune", task: "cifar<10>&\"co\"", clean: 0.5, confidence: 0.7, attacks: [attack], worstCase: nil)
        broken["clean_accuracy"] = nil
        try fixture.complete("broken-0000", broken)
        return fixture
    }

    func testOneSeedHasNoIntervalAndNothingIsDroppedSilently() throws {
        let fixture = try Self.mixedStore()
        let report = try StudyReportBuilder.build(store: fixture.store)
        XCTAssertEqual(report.groups.count, 1)
        let group = report.groups[0]
        XCTAssertEqual(group.cleanAccuracy, Estimate(n: 1, mean: 0.42, standardDeviation: nil, halfWidth: nil))
        XCTAssertNil(group.attacks[0].robustAccuracy.halfWidth)
        XCTAssertEqual(report.nonStudyTrials, 1)
        XCTAssertEqual(report.excludedTrials.map(\.id), ["broken-0000", "waiting-0000"])
        XCTAssertEqual(report.excludedTrials[0].reason, "unreadable metrics: clean_accuracy: missing")
        XCTAssertEqual(report.excludedTrials[1].reason, "not run yet")
        XCTAssertTrue(report.pairedDifferences.isEmpty, "no other stage on standard's task")

        let markdown = try ReportFormat.markdown.render(report)
        XCTAssertTrue(markdown.contains("| standard | 1 | 0.420 (n = 1, no CI) | 0.420 (n = 1, no CI) | 0.250 (n = 1, no CI) | 0.200 (n = 1, no CI) |"), markdown)
        XCTAssertTrue(markdown.contains("| broken-0000 | broken | done | 1 | unreadable metrics: clean_accuracy: missing |"), markdown)
        let html = try ReportFormat.html.render(report)
        let document = try XHTMLDocument(html)
        XCTAssertTrue(html.contains("cifar&lt;10&gt;&amp;&quot;co&quot;"), "the task is escaped")
        XCTAssertEqual(document.count("svg"), 2, "a robustness curve and the clean-vs-robust scatter")
        XCTAssertNil(html.range(of: #"\b(nan|inf|infinity)\b"#, options: [.regularExpression, .caseInsensitive]))
        let csv = try ReportFormat.csv.render(report)
        XCTAssertTrue(csv.contains(#","cifar<10>&""co""",small-cnn,"#), "a quote in a field is doubled and the field quoted:\n\(csv)")
        let cleanRow = try XCTUnwrap(csv.split(separator: "\n").first { $0.contains(",clean_accuracy,") })
        XCTAssertTrue(cleanRow.hasSuffix(",1,0.42,,"), "n = 1: mean as stored, empty interval (and no epoch): \(cleanRow)")
    }

    func testAStoreWithoutStudyTrialsStillShowsTheCluster() throws {
        let fixture = try StudyStoreFixture(sweep: "name: toys\nseeds: [1, 2]\nstages:\n  - {name: toy, job: sleep}\n")
        try fixture.complete("toy-0000", ["slept": .double(0.1)])
        let report = try StudyReportBuilder.build(store: fixture.store)
        XCTAssertFalse(report.hasStudyResults)
        let markdown = try ReportFormat.markdown.render(report)
        XCTAssertTrue(markdown.contains("No study results"), markdown)
        XCTAssertTrue(markdown.contains("1 done trials store other metrics"), markdown)
        XCTAssertTrue(markdown.contains("## Cluster"), markdown)
        XCTAssertTrue(markdown.contains("| h1 | 1 | 10.0 |"), markdown)
        XCTAssertTrue(markdown.contains("| toy-0001 | toy | pending | 0 | not run yet |"), markdown)
        let html = try ReportFormat.html.render(report)
        let document = try XHTMLDocument(html)
        XCTAssertEqual(document.count("svg"), 0)
        XCTAssertTrue(document.text.contains("No study results"))
        XCTAssertEqual(try ReportFormat.csv.render(report), CSVRenderer.header.joined(separator: ",") + "\n")
    }

    func testGridAxesSplitAStageIntoVariantsInsteadOfAveragingThem() throws {
        let fixture = try StudyStoreFixture(sweep: """
            name: grid
            seeds: [1, 2]
            stages:
              - {name: standard, job: standard, grid: {lr: [0.1, 0.01]}}
              - {name: finetune, job: finetune, parameters: {epochs: 3}}
              - {name: dm, job: dm, grid: {lr: [0.1, 0.01]}}
            """)
        // Trials per seed in grid order: standard-0000 (seed 1, lr 0.1), -0001 (seed 1, lr 0.01), -0002, -0003 (seed 2).
        let clean = ["standard-0000": 0.5, "standard-0001": 0.7, "standard-0002": 0.6, "standard-0003": 0.8, "finetune-0000": 0.9, "finetune-0001": 0.95,
                     "dm-0000": 0.4, "dm-0001": 0.65, "dm-0002": 0.6, "dm-0003": 0.7]
        for id in clean.keys.sorted() {
            try fixture.complete(id, studyMetrics(role: String(id.prefix { $0 != "-" }), task: "t", clean: clean[id]!, confidence: 0.5, attacks: [], worstCase: nil))
        }
        let report = try StudyReportBuilder.build(store: fixture.store)
        XCTAssertEqual(report.excludedTrials.map(\.reason), [])
        XCTAssertEqual(report.groups.map(\.label), ["standard [lr=0.1]", "standard [lr=0.01]", "finetune", "dm [lr=0.1]", "dm [lr=0.01]"])
        XCTAssertEqual(report.groups.map(\.cleanAccuracy.mean), [0.55, 0.75, 0.925, 0.5, 0.675], accuracy: 1e-12)
        // finetune (one setting) is compared with each standard variant; dm, on the same grid as
        // standard, only with the matching one. Seed by seed each time.
        let cleanPairs = report.pairedDifferences.filter { $0.metric == .cleanAccuracy }
        XCTAssertEqual(cleanPairs.map(\.comparisonLabel), [
            "finetune − standard [lr=0.1]", "finetune − standard [lr=0.01]",
            "dm [lr=0.1] − standard [lr=0.1]", "dm [lr=0.01] − standard [lr=0.01]",
            "dm [lr=0.1] − finetune", "dm [lr=0.01] − finetune"])
        let means: [Double] = cleanPairs.map(\.difference.mean)
        XCTAssertEqual(means, [
            ((0.9 - 0.5) + (0.95 - 0.6)) / 2, ((0.9 - 0.7) + (0.95 - 0.8)) / 2,
            ((0.4 - 0.5) + (0.6 - 0.6)) / 2, ((0.65 - 0.7) + (0.7 - 0.8)) / 2,
            ((0.4 - 0.9) + (0.6 - 0.95)) / 2, ((0.65 - 0.9) + (0.7 - 0.95)) / 2], accuracy: 1e-12)
    }
}

private func XCTAssertEqual(_ lhs: [Double], _ rhs: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(lhs.count, rhs.count, file: file, line: line)
    for (a, b) in zip(lhs, rhs) { XCTAssertEqual(a, b, accuracy: accuracy, file: file, line: line) }
}
