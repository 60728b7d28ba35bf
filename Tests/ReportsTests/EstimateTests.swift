import Cluster
import XCTest
@testable import Reports

final class EstimateTests: XCTestCase {
    func testMeanAndIntervalOfThreeValues() throws {
        // 0.5, 0.6, 0.7: mean 0.6; sd = √((0.01 + 0 + 0.01) / 2) = 0.1;
        // half-width = t(0.975, 2) · sd / √3 = 4.302653 · 0.1 / 1.732051 = 0.248414.
        let estimate = try XCTUnwrap(Estimate([0.5, 0.6, 0.7]))
        XCTAssertEqual(estimate.n, 3)
        XCTAssertEqual(estimate.mean, 0.6, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(estimate.standardDeviation), 0.1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(estimate.halfWidth), 0.248414, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(estimate.low), 0.6 - 0.248414, accuracy: 1e-6)
    }

    func testOneValueHasNoIntervalAndEncodesNull() throws {
        let estimate = try XCTUnwrap(Estimate([0.42]))
        XCTAssertEqual(estimate.mean, 0.42)
        XCTAssertNil(estimate.standardDeviation)
        XCTAssertNil(estimate.halfWidth)
        XCTAssertEqual(NumberText.estimate(estimate), "0.420 (n = 1, no CI)")
        let json = String(decoding: try ClusterJSON.encode(estimate), as: UTF8.self)
        XCTAssertEqual(json, #"{"ci95_half_width":null,"mean":0.42,"n":1,"sd":null}"#)
        XCTAssertNil(Estimate([]))
    }

    func testEqualValuesHaveAZeroWidthInterval() throws {
        let estimate = try XCTUnwrap(Estimate([0.3, 0.3]))
        XCTAssertEqual(estimate.halfWidth, 0)
        XCTAssertEqual(NumberText.estimate(estimate), "0.300 ± 0.000")
    }

    func testNumberTextNeverPrintsNonFiniteOrNegativeZero() {
        XCTAssertEqual(NumberText.fixed(.nan), "n/a")
        XCTAssertEqual(NumberText.fixed(-.infinity), "n/a")
        XCTAssertEqual(NumberText.fixed(-0.0001), "0.000")
        XCTAssertEqual(NumberText.signed(-0.09), "−0.090")
        XCTAssertEqual(NumberText.signed(0.05), "+0.050")
        XCTAssertEqual(NumberText.signed(0), "0.000")
    }
}
