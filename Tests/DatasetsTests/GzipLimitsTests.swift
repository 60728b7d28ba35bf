import XCTest
@testable import Datasets

/// gzip bombs (issue 13): inflating stops at the size the trailer promises plus a margin, and a
/// file promising more than any dataset file holds is refused before anything is inflated.
final class GzipLimitsTests: XCTestCase {
    /// `gzip` with its trailer's ISIZE (the last 4 bytes, little-endian) replaced by `size`.
    private func withPromise(_ gzip: [UInt8], _ size: UInt32) -> [UInt8] {
        var bytes = gzip
        bytes.replaceSubrange((bytes.count - 4)..., with: withUnsafeBytes(of: size.littleEndian) { Array($0) })
        return bytes
    }

    func testATrailerPromisingGigabytesIsRefusedBeforeInflating() {
        // An honest bomb (2 GB of zeros in about 2 MB) says how big it is: 2^31 bytes.
        let bomb = withPromise(Gzip.compress([UInt8](repeating: 0, count: 1 << 16)), 1 << 31)
        XCTAssertThrowsError(try Gzip.decompress(bomb, path: "bomb.gz")) { error in
            XCTAssertTrue("\(error)".hasPrefix("bomb.gz:"), "\(error)")
            XCTAssertTrue("\(error)".contains("promises 2147483648 bytes, more than the 536870912"), "\(error)")
        }
    }

    func testALyingTrailerStopsInflatingAtThePromisePlusTheMargin() {
        // 64 MB of zeros that claim to be 100 bytes: inflating stops a megabyte later.
        let compressed = Gzip.compress([UInt8](repeating: 0, count: 64 << 20), level: 9)
        let liar = withPromise(compressed, 100)
        XCTAssertLessThan(liar.count, 100_000)
        XCTAssertThrowsError(try Gzip.decompress(liar, path: "liar.gz")) { error in
            XCTAssertTrue("\(error)".hasPrefix("liar.gz:"), "\(error)")
            XCTAssertTrue("\(error)".contains("inflates past \(100 + Gzip.margin) bytes, more than its gzip trailer promises (100 bytes)"), "\(error)")
        }
    }

    func testTheMaximumBoundsAFileOfManyHonestMembers() {
        // Each member tells the truth about itself; together they pass the maximum.
        let member = Gzip.compress([UInt8](repeating: 0, count: 1 << 20), level: 9)
        let many = Array([[UInt8]](repeating: member, count: 8).joined())
        XCTAssertEqual(try Gzip.decompress(many, path: "many.gz").count, 8 << 20)
        XCTAssertThrowsError(try Gzip.decompress(many, path: "many.gz", maximum: 4 << 20)) { error in
            XCTAssertTrue("\(error)".contains("many.gz"), "\(error)")
        }
    }

    func testAHonestFileInflatesToExactlyItsSize() throws {
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        XCTAssertEqual(try Gzip.decompress(Gzip.compress(bytes), path: "ok.gz"), bytes)
        XCTAssertEqual(try Gzip.decompress(Gzip.compress([]), path: "empty.gz"), [])
    }

    func testADatasetFileThatIsABombNamesTheFile() throws {
        let fixtures = try Fixtures(self)
        let path = fixtures.path("train-images-idx3-ubyte.gz")
        try Data(withPromise(Gzip.compress([UInt8](repeating: 0, count: 1 << 16)), 1 << 31)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try DatasetFile.read(path)) { error in
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
    }
}
