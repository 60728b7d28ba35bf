import Cluster
import XCTest
@testable import Reports

/// SVCCA beside linear CKA: aggregated over seeds like CKA, its own table (and CSV rows) beside
/// CKA's, and a store written before SVCCA existed still shows CKA alone.
final class SVCCAReportTests: XCTestCase {
    static let sweep = """
        name: similarity
        seeds: [1, 2]
        stages:
          - {name: pretrain, job: pretrain}
          - {name: finetune, job: finetune, from: pretrain}
        """

    func store(svcca: [Double]?) throws -> StudyStoreFixture {
        let fixture = try StudyStoreFixture(sweep: Self.sweep)
        let attack = AttackValues(eps: 8.0 / 255, epsLabel: "8/255", robust: 0.25, success: 0.6, confidenceClean: 0.8, confidenceAdversarial: 0.3)
        for i in 0..<2 {
            try fixture.complete(String(format: "pretrain-%04d", i), studyMetrics(role: "pretrain", task: StudyStoreFixture.source, clean: 0.9,
                                                                                   confidence: 0.8, attacks: [attack], worstCase: 0.2))
            var metrics = studyMetrics(role: "finetune", task: StudyStoreFixture.target, clean: 0.8, confidence: 0.7, attacks: [attack], worstCase: 0.2,
                                       cka: [("parent", "conv1", 0.9 + 0.02 * Double(i)), ("parent", "fc1", 0.6)])
            if let svcca {
                metrics["cka"] = .array(metrics["cka"]!.arrayValue!.enumerated().map { index, entry -> JSONValue in
                    var fields = entry.objectValue!
                    fields["svcca"] = .double(index == 0 ? svcca[i] : 0.5)
                    return .object(fields)
                })
            }
            try fixture.complete(String(format: "finetune-%04d", i), metrics)
        }
        return fixture
    }

    func testSVCCAIsAggregatedAndShownBesideCKA() throws {
        let fixture = try store(svcca: [0.7, 0.8])
        let report = try StudyReportBuilder.build(store: fixture.store)
        XCTAssertEqual(report.cka.map(\.layer), ["conv1", "fc1"])
        XCTAssertEqual(report.cka[0].value.mean, 0.91, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(report.cka[0].svcca).mean, 0.75, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(report.cka[0].svcca).n, 2)
        XCTAssertEqual(try XCTUnwrap(report.cka[1].svcca).mean, 0.5, accuracy: 1e-12)

        let markdown = MarkdownRenderer.render(report)
        XCTAssertTrue(markdown.contains("Representation similarity (linear CKA and SVCCA)"))
        let svccaPart = try XCTUnwrap(markdown.range(of: "SVCCA: the mean canonical correlation")).upperBound
        XCTAssertTrue(markdown[svccaPart...].contains("0.75"), "the SVCCA table follows its caption")
        let csv = CSVRenderer.render(report)
        XCTAssertEqual(csv.split(separator: "\n").filter { $0.contains(",svcca,") }.count, 2)
        XCTAssertTrue(HTMLRenderer.render(report).contains("SVCCA by layer"))
    }

    func testAStoreWithoutSVCCAShowsCKAAlone() throws {
        let fixture = try store(svcca: nil)
        let report = try StudyReportBuilder.build(store: fixture.store)
        XCTAssertEqual(report.cka.count, 2)
        XCTAssertTrue(report.cka.allSatisfy { $0.svcca == nil })
        let markdown = MarkdownRenderer.render(report)
        XCTAssertTrue(markdown.contains("Representation similarity (linear CKA)"))
        XCTAssertFalse(markdown.contains("SVCCA"))
        XCTAssertFalse(CSVRenderer.render(report).contains(",svcca,"))
    }
}
