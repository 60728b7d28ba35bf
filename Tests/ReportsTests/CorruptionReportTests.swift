import Cluster
import Foundation
import StudyMetrics
import XCTest
@testable import Reports

/// The report's common-corruption section: means per kind and severity over seeds, and the
/// corruption errors against standard, on a store with known numbers.
final class CorruptionReportTests: XCTestCase {
    static let sweep = """
        name: corruptions
        seeds: [1, 2]
        stages:
          - {name: standard, job: standard}
          - {name: finetune, job: standard}
        """

    /// Accuracy per (kind, severity) = base − drop·severity, per seed an offset.
    static func corruptions(clean: Double, base: [String: Double], drop: [String: Double], offset: Double) -> JSONValue {
        var results: [JSONValue] = []
        for kind in ["gaussian_noise", "contrast"] {
            for severity in [1, 3] {
                results.append(.object(["kind": .string(kind), "severity": .int(severity),
                                        "accuracy": .double(base[kind]! - drop[kind]! * Double(severity) + offset),
                                        "success_rate": .double(0.1), "mean_true_confidence": .double(0.5)]))
            }
        }
        return .object(["clean_accuracy": .double(clean + offset), "examples": .int(100), "mean_accuracy": .double(0), "results": .array(results)])
    }

    func makeReport() throws -> StudyReport {
        let fixture = try StudyStoreFixture(sweep: Self.sweep)
        for (stage, base, drop) in [("standard", ["gaussian_noise": 0.8, "contrast": 0.9], ["gaussian_noise": 0.1, "contrast": 0.0]),
                                    ("finetune", ["gaussian_noise": 0.85, "contrast": 0.85], ["gaussian_noise": 0.15, "contrast": 0.05])] {
            for (i, offset) in [0.0, 0.02].enumerated() {
                var metrics = studyMetrics(role: "standard", task: StudyStoreFixture.target, clean: 0.95, confidence: 0.9, attacks: [], worstCase: nil)
                metrics["corruptions"] = Self.corruptions(clean: 0.95, base: base, drop: drop, offset: offset)
                try fixture.complete(String(format: "%@-%04d", stage, i), metrics)
            }
        }
        return try StudyReportBuilder.build(store: fixture.store)
    }

    func testMeansPerKindAndSeverityAndTheCorruptionErrors() throws {
        let report = try makeReport()
        XCTAssertEqual(report.corruptions.map(\.stage), ["standard", "finetune"])
        let standard = report.corruptions[0], finetune = report.corruptions[1]
        // standard, seed 1: gaussian 0.7, 0.5 (mean 0.6); contrast 0.9, 0.9; overall 0.75; seed 2 +0.02.
        XCTAssertEqual(standard.kinds.map(\.kind), ["gaussian_noise", "contrast"])
        XCTAssertEqual(standard.kinds[0].meanAccuracy.mean, 0.61, accuracy: 1e-12)
        XCTAssertEqual(standard.meanAccuracy.mean, 0.76, accuracy: 1e-12)
        XCTAssertEqual(standard.meanAccuracy.n, 2)
        XCTAssertEqual(standard.severities.map(\.severity), [1, 3])
        XCTAssertEqual(standard.severities[0].accuracy.mean, (0.71 + 0.91) / 2, accuracy: 1e-12)
        XCTAssertEqual(standard.kinds[0].corruptionError!, 1, accuracy: 1e-12)
        XCTAssertEqual(standard.baseline, "standard")
        // finetune gaussian: 0.71, 0.41 (seed means) -> errors 0.29, 0.59 vs standard's 0.29, 0.49.
        XCTAssertEqual(finetune.kinds[0].corruptionError!, (0.29 + 0.59) / (0.29 + 0.49), accuracy: 1e-12)
        // Relative: clean 0.96 for both; rises 0.25, 0.55 vs 0.25, 0.45.
        XCTAssertEqual(finetune.kinds[0].relativeCorruptionError!, 0.80 / 0.70, accuracy: 1e-12)
        // Contrast: standard's accuracy 0.91 < clean 0.96: it rises by 0.05 per severity.
        XCTAssertEqual(finetune.kinds[1].relativeCorruptionError!, (0.96 - 0.81 + 0.96 - 0.71) / 0.10, accuracy: 1e-12)
        XCTAssertEqual(finetune.meanCorruptionError!, (finetune.kinds[0].corruptionError! + finetune.kinds[1].corruptionError!) / 2, accuracy: 1e-12)
    }

    func testMarkdownAndJSONShowTheSection() throws {
        let report = try makeReport()
        let markdown = try ReportFormat.markdown.render(report)
        XCTAssertTrue(markdown.contains("## Common corruptions on \(StudyStoreFixture.target), \(StudyStoreFixture.model)"), markdown)
        XCTAssertTrue(markdown.contains("mCE (relative)"))
        XCTAssertTrue(markdown.contains("gaussian_noise"))
        let json = try ReportFormat.json.render(report)
        XCTAssertTrue(json.contains("\"relative_mean_corruption_error\""))
        let csv = try ReportFormat.csv.render(report).split(separator: "\n").map(String.init)
        let header = csv[0].split(separator: ",", omittingEmptySubsequences: false).count
        let corruptionRows = csv.filter { $0.hasPrefix("corruption,") }
        XCTAssertTrue(corruptionRows.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == header })
        // By column name: the layout may grow columns.
        let names = csv[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let rows = corruptionRows.map { line in
            Dictionary(uniqueKeysWithValues: zip(names, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
        }
        XCTAssertTrue(rows.contains { $0["stage"] == "finetune" && $0["baseline"] == "standard" && $0["metric"] == "relative_mean_corruption_error" && $0["n"] == "2" })
        XCTAssertTrue(rows.contains { $0["metric"] == "corruption_accuracy" && $0["attack"] == "gaussian_noise" && $0["eps_label"] == "3" && $0["n"] == "2" })
        let html = try ReportFormat.html.render(report)
        XCTAssertNoThrow(try XHTMLDocument(html), "the HTML stays well-formed XML")
    }

    func testReEvaluationsAddTheKindsAndSeveritiesATrialLacks() {
        let own = CorruptionMetrics(cleanAccuracy: 0.9, results: [.init(kind: "contrast", severity: 1, accuracy: 0.8)])
        let extra = CorruptionMetrics(cleanAccuracy: 0.5, results: [.init(kind: "contrast", severity: 1, accuracy: 0.1),
                                                                    .init(kind: "pixelate", severity: 2, accuracy: 0.7)])
        let folded = CorruptionMetrics.folding(extra, into: own)
        XCTAssertEqual(folded?.cleanAccuracy, 0.9)
        XCTAssertEqual(folded?.results, [.init(kind: "contrast", severity: 1, accuracy: 0.8), .init(kind: "pixelate", severity: 2, accuracy: 0.7)])
        XCTAssertEqual(CorruptionMetrics.folding(extra, into: nil), extra)
        XCTAssertEqual(CorruptionMetrics.folding(nil, into: own), own)
    }

    func testStudiesWithoutCorruptionsHaveNoSection() throws {
        let fixture = try ThreeRoleStudy.make()
        let report = try StudyReportBuilder.build(store: fixture.store)
        XCTAssertTrue(report.corruptions.isEmpty)
        XCTAssertFalse(try ReportFormat.markdown.render(report).contains("Common corruptions"))
    }
}
