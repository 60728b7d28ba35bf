import XCTest
@testable import Datasets

final class IDXFormatTests: XCTestCase {
    func testReadsRawAndGzipFilesIdentically() throws {
        let raw = try Fixtures(self), zipped = try Fixtures(self)
        try raw.writeIDXPair(count: 5, labels: [3, 1, 4, 1, 5])
        try zipped.writeIDXPair(count: 5, labels: [3, 1, 4, 1, 5], gzip: true)
        let a = try XCTUnwrap(IDXFormat.load(directory: raw.directory, split: .train, name: "raw"))
        let b = try XCTUnwrap(IDXFormat.load(directory: zipped.directory, split: .train, name: "gzip"))
        for dataset in [a, b] {
            XCTAssertEqual(dataset.shape, [5, 1, 4, 3])
            XCTAssertEqual(dataset.labels, [3, 1, 4, 1, 5])
            XCTAssertEqual(dataset.classCount, 6, "without class names the count is the largest label + 1")
            XCTAssertEqual(Array(dataset.image(2)), (0..<4).flatMap { r in (0..<3).map { c in Fixtures.idxPixel(2, r, c) } })
        }
    }

    func testFindsTheT10kTestSplitAndIgnoresOtherFamilies() throws {
        let fixtures = try Fixtures(self)
        try fixtures.writeIDXPair(count: 4)
        try fixtures.writeIDXPair(split: "t10k", count: 2, gzip: true)
        let test = try XCTUnwrap(IDXFormat.load(directory: fixtures.directory, split: .test, classNames: ImageDataset.numberedClassNames(10), name: "t"))
        XCTAssertEqual(test.count, 2)
        XCTAssertEqual(test.classCount, 10)
        XCTAssertNil(try IDXFormat.findSplit(in: fixtures.path(""), split: .train, family: "kmnist-"))
    }

    func testEMNISTFamilyIsTransposedAndSelectable() throws {
        let fixtures = try Fixtures(self)
        try fixtures.writeIDXPair(prefix: "emnist-letters-", count: 2, rows: 4, columns: 3, labels: [1, 2], gzip: true)
        try fixtures.writeIDXPair(prefix: "emnist-digits-", count: 2, labels: [0, 1])
        XCTAssertThrowsError(try IDXFormat.findSplit(in: fixtures.directory, split: .train)) { error in
            XCTAssertTrue("\(error)".contains("emnist-digits") && "\(error)".contains("emnist-letters"), "\(error)")
        }
        let letters = try DatasetCatalog.load(fixtures.path("emnist-letters"), split: .train)
        XCTAssertEqual(letters.shape, [2, 1, 3, 4], "EMNIST images are stored column-major: rows and columns swap")
        // Stored pixel (r, c) appears at (c, r).
        XCTAssertEqual(letters.image(1)[2 * 4 + 1], Fixtures.idxPixel(1, 1, 2))
        XCTAssertEqual(letters.labels, [1, 2])
    }

    func testWrongMagicNamesTheFile() throws {
        let fixtures = try Fixtures(self)
        try fixtures.writeIDXPair(count: 2)
        var bytes = Fixtures.idx(dimensions: [2, 4, 3], bytes: [UInt8](repeating: 0, count: 24))
        bytes[2] = 0x0D  // float data, not unsigned bytes
        let path = try fixtures.write(bytes, to: "train-images-idx3-ubyte")
        XCTAssertThrowsDatasetError(try IDXFormat.load(images: path, labels: fixtures.path("train-labels-idx1-ubyte"), name: "x"),
                                    .wrongMagic(path: path, expected: "00 00 08 03", found: "00 00 0d 03"))
    }

    func testTruncatedImagesAreASizeMismatch() throws {
        let fixtures = try Fixtures(self)
        try fixtures.writeIDXPair(count: 3)
        let full = Fixtures.idx(dimensions: [3, 4, 3], bytes: [UInt8](repeating: 7, count: 36))
        let path = try fixtures.write(Array(full.dropLast(5)), to: "train-images-idx3-ubyte", gzip: true)
        let error = datasetError(try IDXFormat.load(directory: fixtures.directory, split: .train, name: "x"))
        guard case let .sizeMismatch(reportedPath, reason)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(reportedPath, path)
        XCTAssertTrue(reason.contains("file has 31"), reason)
    }

    func testAbsurdHeaderSizesDoNotOverflow() throws {
        let fixtures = try Fixtures(self)
        let path = try fixtures.write([0, 0, 8, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2], to: "huge")
        let error = datasetError(try IDXFormat.parseHeader(DatasetFile.read(path), path: path, expectedDimensions: 3))
        guard case let .sizeMismatch(_, reason)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertTrue(reason.contains("more than"), reason)
    }

    func testLabelOutOfRangeAndCountMismatch() throws {
        let fixtures = try Fixtures(self)
        try fixtures.writeIDXPair(count: 3, labels: [0, 12, 1])
        XCTAssertThrowsDatasetError(try IDXFormat.load(directory: fixtures.directory, split: .train,
                                                       classNames: ImageDataset.numberedClassNames(10), name: "x"),
                                    .labelOutOfRange(path: fixtures.path("train-labels-idx1-ubyte"), example: 1, label: 12, classCount: 10))
        let labels = try fixtures.write(Fixtures.idx(dimensions: [2], bytes: [0, 1]), to: "train-labels-idx1-ubyte")
        XCTAssertThrowsDatasetError(try IDXFormat.load(images: fixtures.path("train-images-idx3-ubyte"), labels: labels, name: "x"),
                                    .countMismatch(imagesPath: fixtures.path("train-images-idx3-ubyte"), images: 3, labelsPath: labels, labels: 2))
    }

    func testCorruptGzipIsATypedError() throws {
        let fixtures = try Fixtures(self)
        let good = Gzip.compress(Fixtures.idx(dimensions: [1], bytes: [4]))
        var bad = good
        bad[12] ^= 0xFF
        bad[13] ^= 0xFF
        let path = try fixtures.write(bad, to: "labels.gz")
        let error = datasetError(try DatasetFile.read(path))
        guard case let .corruptCompressedFile(reportedPath, _)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(reportedPath, path)
        let truncated = try fixtures.write(Array(good.prefix(good.count / 2)), to: "short.gz")
        guard case .corruptCompressedFile? = datasetError(try DatasetFile.read(truncated)) else { return XCTFail("truncated gzip accepted") }
        XCTAssertEqual(try Gzip.decompress(good + good, path: "two-members"), Fixtures.idx(dimensions: [1], bytes: [4]) + Fixtures.idx(dimensions: [1], bytes: [4]))
    }
}
