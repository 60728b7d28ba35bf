import Cluster
import Foundation
import XCTest
@testable import Reports

/// Learning curves in the report: per epoch, mean and interval over seeds, drawn as bands in
/// HTML, tabled in Markdown, tidy rows with their epoch in CSV. Stores without curves render as before.
final class LearningCurveReportTests: XCTestCase {
    private func curve(seed: Int, validation: Bool) -> JSONValue {
        .array((1...3).map { epoch in
            var point: [String: JSONValue] = ["epoch": .int(epoch), "train_loss": .double(1.0 / Double(epoch) + 0.01 * Double(seed)),
                                              "train_accuracy": .double(0.5 + 0.1 * Double(epoch)), "learning_rate": .double(0.05 / Double(epoch)),
                                              "seconds": .double(2)]
            if validation && epoch >= 2 {
                point["val_accuracy"] = .double(0.5 + 0.1 * Double(epoch) - 0.01 * Double(seed))
                point["val_robust_accuracy"] = .double(0.2)
            }
            return .object(point)
        })
    }

    func testCurvesAreAveragedPerEpochAndRenderedInEveryFormat() throws {
        let fixture = try StudyStoreFixture(sweep: "name: s\nseeds: [1, 2, 3]\nstages:\n  - {name: standard, job: standard}\n  - {name: finetune, job: standard}\n")
        for trial in try fixture.store.trials().map(\.spec) {
            var metrics = studyMetrics(role: "standard", task: StudyStoreFixture.target, clean: 0.9, confidence: 0.9, attacks: [], worstCase: nil)
            metrics["learning_curve"] = curve(seed: trial.seed, validation: trial.stage == "standard")
            try fixture.complete(trial.id, metrics)
        }
        let report = try StudyReportBuilder.build(store: fixture.store)
        let standard = try XCTUnwrap(report.groups.first { $0.stage == "standard" })
        XCTAssertEqual(standard.learningCurve.map(\.epoch), [1, 2, 3])
        XCTAssertEqual(try XCTUnwrap(standard.learningCurve[0].trainLoss?.mean), 1.02, accuracy: 1e-12, "mean of 1.01, 1.02, 1.03")
        XCTAssertNil(standard.learningCurve[0].validationAccuracy, "epoch 1 has no validation point")
        XCTAssertEqual(try XCTUnwrap(standard.learningCurve[1].validationAccuracy?.n), 3)

        let document = try XHTMLDocument(try ReportFormat.html.render(report))
        XCTAssertTrue(document.text.contains("Learning curves on fashion-mnist[5-9], small-cnn"))
        // Training loss, training accuracy, validation accuracy, validation robust accuracy, learning rate.
        XCTAssertEqual(document.count("polygon"), 2 + 2 + 1 + 1 + 2, "a band per role and metric: two roles on training loss and accuracy and "
                       + "the learning rate (the same on every seed: a band of no width), one on each validation metric")
        let markdown = try ReportFormat.markdown.render(report)
        XCTAssertTrue(markdown.contains("| role | epoch | training loss | training accuracy | validation accuracy | validation robust accuracy | learning rate | seconds |"), markdown)
        XCTAssertTrue(markdown.contains("| standard | 2 | 0.520 ± 0.025 | 0.700 ± 0.000 | 0.680 ± 0.025 | 0.200 ± 0.000 | 0.025 ± 0.000 | 2.000 ± 0.000 |"), markdown)
        let csv = try ReportFormat.csv.render(report).split(separator: "\n")
        let row = try XCTUnwrap(csv.first { $0.hasPrefix("learning_curve,") && $0.contains(",standard,") && $0.contains(",val_accuracy,") && $0.hasSuffix(",3") })
        XCTAssertTrue(row.contains(",3,0.77"), String(row))
    }

    func testAStoreWithoutCurvesHasNoCurveSection() throws {
        let fixture = try StudyStoreFixture(sweep: "name: s\nseeds: [1]\nstages:\n  - {name: standard, job: standard}\n")
        try fixture.complete("standard-0000", studyMetrics(role: "standard", task: StudyStoreFixture.target, clean: 0.9, confidence: 0.9, attacks: [], worstCase: nil))
        let report = try StudyReportBuilder.build(store: fixture.store)
        XCTAssertEqual(report.groups[0].learningCurve, [])
        XCTAssertFalse(try ReportFormat.markdown.render(report).contains("Learning curves"))
    }
}
