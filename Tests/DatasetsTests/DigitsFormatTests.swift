import XCTest
@testable import Datasets

final class DigitsFormatTests: XCTestCase {
    func testReadsGzipCSVWithFixedStratifiedSplit() throws {
        let fixtures = try Fixtures(self)
        let rows = (0..<8).map { Fixtures.digitsRow($0, label: $0 % 10) }
        try fixtures.write(Array((rows.joined(separator: "\r\n") + "\r\n").utf8), to: "digits.csv.gz", gzip: true)
        let options = DatasetLoadOptions(dataDirectory: fixtures.directory)
        let train = try DatasetCatalog.load("digits", split: .train, options: options)
        let test = try DatasetCatalog.load("digits", split: .test, options: options)
        XCTAssertEqual(train.labels, [0, 1, 2, 4, 5, 6], "rows 3 and 7 (i % 4 == 3) are the test split")
        XCTAssertEqual(test.labels, [3, 7])
        XCTAssertEqual(train.shape, [6, 1, 8, 8])
        // Row 4 is train image 3; its pixel i holds (4 + i) % 17, scaled 0...16 -> 0...255.
        XCTAssertEqual(train.image(3)[0], UInt8((4 * 255 + 8) / 16))
        XCTAssertEqual(train.image(3)[12], 255, "value 16 is white")
        XCTAssertEqual(train.image(3)[13], 0)
    }

    func testBadRowsAreReportedWithTheirNumber() throws {
        let fixtures = try Fixtures(self)
        let good = Fixtures.digitsRow(0, label: 1)
        let path = try fixtures.write(Array("\(good)\n\(good),5\n".utf8), to: "d1.csv")
        XCTAssertThrowsDatasetError(try DigitsFormat.load(path: path, split: .train, name: "x"),
                                    .malformedRecord(path: path, record: 1, reason: "66 values, expected 64 pixels and a label"))
        let tooBright = "17.0" + good.dropFirst(3)
        let bright = try fixtures.write(Array("\(good)\n\(tooBright)\n".utf8), to: "d2.csv")
        XCTAssertThrowsDatasetError(try DigitsFormat.load(path: bright, split: .train, name: "x"),
                                    .malformedRecord(path: bright, record: 1, reason: "pixel 0 is 17, outside 0...16"))
        let notFinite = try fixtures.write(Array("pixels\n\(good)\ninf\(good.dropFirst(3))\n".utf8), to: "d4.csv")
        XCTAssertThrowsDatasetError(try DigitsFormat.load(path: notFinite, split: .train, name: "x"),
                                    .malformedRecord(path: notFinite, record: 1, reason: "column 0 is 'inf', not a whole number"))
        let badLabel = try fixtures.write(Array(Fixtures.digitsRow(0, label: 10).utf8), to: "d3.csv")
        XCTAssertThrowsDatasetError(try DigitsFormat.load(path: badLabel, split: .train, name: "x"),
                                    .labelOutOfRange(path: badLabel, example: 0, label: 10, classCount: 10))
    }

    func testMissingDigitsNamesTheFetchCommand() throws {
        let fixtures = try Fixtures(self)
        let error = datasetError(try DatasetCatalog.load("digits", split: .train, options: DatasetLoadOptions(dataDirectory: fixtures.directory)))
        XCTAssertTrue("\(String(describing: error))".contains("scripts/fetch_datasets.sh digits"))
    }
}
