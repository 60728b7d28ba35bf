import XCTest
@testable import Reports

final class StudentTTests: XCTestCase {
    /// Two-sided 95% critical values t(0.975, df) from standard tables (R: qt(0.975, df)).
    func testQuantilesAgainstTables() {
        let table: [(df: Double, t: Double)] = [(1, 12.706205), (2, 4.302653), (5, 2.570582), (10, 2.228139),
                                                 (30, 2.042272), (100, 1.983972), (1e9, 1.959964)]
        for (df, t) in table {
            XCTAssertEqual(StudentT.quantile(0.975, degreesOfFreedom: df), t, accuracy: 1e-4, "df \(df)")
        }
    }

    func testOtherLevelsAndTheLowerTail() {
        XCTAssertEqual(StudentT.quantile(0.995, degreesOfFreedom: 10), 3.169273, accuracy: 1e-4)
        XCTAssertEqual(StudentT.quantile(0.95, degreesOfFreedom: 5), 2.015048, accuracy: 1e-4)
        XCTAssertEqual(StudentT.quantile(0.025, degreesOfFreedom: 2), -4.302653, accuracy: 1e-4)
        XCTAssertEqual(StudentT.quantile(0.5, degreesOfFreedom: 3), 0)
        // The normal limit: df beyond the cut-over gives the normal's 1.959964.
        XCTAssertEqual(StudentT.quantile(0.975, degreesOfFreedom: .infinity), 1.959964, accuracy: 1e-4)
    }

    func testCDFInvertsTheQuantile() {
        for df in [1.0, 3, 7.5, 42, 5000] {
            for p in [0.6, 0.9, 0.975, 0.999] {
                XCTAssertEqual(StudentT.cdf(StudentT.quantile(p, degreesOfFreedom: df), degreesOfFreedom: df), p, accuracy: 1e-10, "df \(df), p \(p)")
            }
        }
        // df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/π.
        XCTAssertEqual(StudentT.cdf(2, degreesOfFreedom: 1), 0.5 + atan(2) / .pi, accuracy: 1e-12)
    }
}
