import Cluster
import Foundation
import XCTest
@testable import Reports

final class ReportRenderingTests: ThreeRoleStudyTestCase {
    func testMarkdownHasTheAccuracyPairedAndClusterTables() throws {
        let markdown = try ReportFormat.markdown.render(report)
        XCTAssertTrue(markdown.contains("## Accuracy on fashion-mnist[5-9], small-cnn"), markdown)
        XCTAssertTrue(markdown.contains("| role | n | clean, full test set (5000) | clean, attacked subset (500) | fgsm linf 8/255 (1 step) | pgd linf 2/255 (10 steps) | pgd linf 8/255 (10 steps) | worst case |"), markdown)
        // standard: clean 0.600 ± 0.248 (the fixture's attacked subset as accurate as the test set); fgsm 0.37 ± 0.050;
        // pgd 2/255 = clean − 0.1; pgd 8/255 0.320 ± 0.050; worst case 0.270 ± 0.050.
        XCTAssertTrue(markdown.contains("| standard | 3 | 0.600 ± 0.248 | 0.600 ± 0.248 | 0.370 ± 0.050 | 0.500 ± 0.248 | 0.320 ± 0.050 | 0.270 ± 0.050 |"), markdown)
        XCTAssertTrue(markdown.contains("| dm | 2 | 0.660 ± 0.762 |"), markdown)
        XCTAssertTrue(markdown.contains("| fashion-mnist[5-9] | small-cnn | finetune − standard | clean, full test set | 3 | +0.090 ± 0.090 | 1 2 3 |"), markdown)
        XCTAssertTrue(markdown.contains("| fashion-mnist[5-9] | small-cnn | finetune − standard | robust pgd linf 8/255 (10 steps) | 3 | −0.090 ± 0.043 | 1 2 3 |"), markdown)
        XCTAssertTrue(markdown.contains("| fashion-mnist[5-9] | small-cnn | standard | pgd linf 8/255 (10 steps) | 0.550 ± 0.248 | 0.270 ± 0.050 |"), markdown)
        XCTAssertTrue(markdown.contains("| model vs reference | layer1 | layer2 | layer10 |"), markdown)
        XCTAssertTrue(markdown.contains("| finetune vs pretrain | 0.960 ± 0.025 | 0.860 ± 0.025 | 0.660 ± 0.025 |"), markdown)
        XCTAssertTrue(markdown.contains("| trial duration (11 done) | mean 60.0 s, median 60.0 s, max 110.0 s |"), markdown)
        XCTAssertTrue(markdown.contains("| dm-0001 | dm | failed | 2 | out of memory again (retry budget exhausted after 2 attempts) |"), markdown)
    }

    func testHTMLIsOneWellFormedPageWithThePlots() throws {
        let html = try ReportFormat.html.render(report)
        let document = try XHTMLDocument(html)
        // Per task and model: a curve per attack family (fgsm, pgd) and a scatter; plus the CKA heat
        // map; and the headline's difference plot per family on the target task (the source task has no pairs).
        XCTAssertEqual(document.count("svg"), 2 * 3 + 1 + 2)
        XCTAssertEqual(document.count("polyline"), 1 + 3 + 2, "pgd has two budgets: a line per role (pretrain on the source task, three on the target) "
                       + "and per headline comparison (finetune − standard, dm − finetune); fgsm one point each")
        XCTAssertGreaterThan(document.count("table"), 5)
        XCTAssertEqual(document.count("script") + document.count("link") + document.count("img"), 0, "self-contained")
        XCTAssertFalse(html.contains("http://") && html.replacingOccurrences(of: "http://www.w3.org/", with: "").contains("http://"),
                       "no external references besides the XML namespaces")
        XCTAssertNil(html.range(of: #"\b(nan|inf|infinity)\b"#, options: [.regularExpression, .caseInsensitive]))
        XCTAssertTrue(document.text.contains("Clean vs robust (pgd linf 2/255 (10 steps))"), "the lower median of PGD's budgets")
        XCTAssertTrue(document.text.contains("0.600 ± 0.248"))
        XCTAssertEqual(try ReportFormat.html.render(report), html, "deterministic")
    }

    func testCSVIsLongFormatWithOneRowPerGroupAndMetric() throws {
        let csv = try ReportFormat.csv.render(report)
        let lines = csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "section,task,model,stage,variant,baseline,reference,layer,metric,attack,norm,eps_label,eps,steps,n,mean,ci95_half_width,epoch")
        // 4 groups × (clean on both sets, confidence, worst case + 3 attacks × 4 metrics) + paired differences
        // (finetune − standard, dm − standard, dm − finetune: each on clean on both sets and 3 attacks) + 6 CKA values.
        XCTAssertEqual(lines.count - 1, 4 * (4 + 3 * 4) + 3 * 5 + 6)
        let fields = try XCTUnwrap(lines.first { $0.hasPrefix("group,fashion-mnist[5-9],small-cnn,standard,") && $0.contains(",clean_accuracy,") })
            .split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(fields.count, 18)
        XCTAssertEqual(fields[14], "3")
        XCTAssertEqual(try XCTUnwrap(Double(fields[15])), 0.6, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Double(fields[16])), 0.248414, accuracy: 1e-6)
        let paired = try XCTUnwrap(lines.first { $0.hasPrefix("paired_difference,") && $0.contains(",dm,") && $0.contains(",clean_accuracy_difference,") })
        XCTAssertTrue(paired.contains(",standard,"), paired)
        XCTAssertTrue(paired.contains(",2,0.06"), paired)
    }

    func testJSONRoundTripsAndHoldsTheStoredNumbers() throws {
        let json = try ReportFormat.json.render(report)
        XCTAssertEqual(try ClusterJSON.decode(StudyReport.self, from: Data(json.utf8)), report)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["sweep"] as? String, "study")
        let groups = try XCTUnwrap(object["groups"] as? [[String: Any]])
        let standard = try XCTUnwrap(groups.first { $0["stage"] as? String == "standard" })
        let clean = try XCTUnwrap(standard["clean_accuracy"] as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(clean["mean"] as? Double), ThreeRoleStudy.clean["standard"]!.reduce(0, +) / 3, accuracy: 1e-15)
        XCTAssertEqual(clean["n"] as? Int, 3)
        XCTAssertNotNil(object["paired_differences"] as? [[String: Any]])
        XCTAssertNotNil((object["cluster"] as? [String: Any])?["trials_per_hour"])
        // Keys are sorted, so two builds of one store print the same text.
        XCTAssertEqual(try ReportFormat.json.render(StudyReportBuilder.build(store: fixture.store)), json)
    }
}
