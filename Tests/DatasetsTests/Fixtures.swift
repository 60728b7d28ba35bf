import Foundation
import XCTest
@testable import Datasets

/// Writes dataset files in their real formats into a fresh temporary directory,
/// removed when the test finishes.
final class Fixtures {
    let directory: String

    init(_ test: XCTestCase) throws {
        directory = NSTemporaryDirectory() + "rt-datasets-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let directory = self.directory
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Writes into `existing` (created if needed), cleaned up by whoever owns its parent.
    init(existing: String) {
        directory = existing
        try? FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: true)
    }

    func path(_ relative: String) -> String { directory + "/" + relative }

    @discardableResult
    func write(_ bytes: [UInt8], to relative: String, gzip: Bool = false) throws -> String {
        let target = path(relative)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(gzip ? Gzip.compress(bytes) : bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    func makeDirectory(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: path(relative), withIntermediateDirectories: true)
    }

    /// An IDX file: magic 00 00 08 <ndims>, big-endian sizes, bytes.
    static func idx(dimensions: [Int], bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for d in dimensions { out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return out + bytes
    }

    /// Image n of an IDX fixture: pixel (r, c) = (n * 7 + r * 3 + c) mod 256, easy to predict.
    static func idxPixel(_ n: Int, _ r: Int, _ c: Int) -> UInt8 { UInt8((n * 7 + r * 3 + c) % 256) }

    /// Writes `<prefix>train-…` and `<prefix>t10k-…` image and label files of `count` images of rows x columns.
    func writeIDXPair(prefix: String = "", split: String = "train", count: Int, rows: Int = 4, columns: Int = 3,
                      labels: [Int]? = nil, gzip: Bool = false) throws {
        var pixels: [UInt8] = []
        for n in 0..<count { for r in 0..<rows { for c in 0..<columns { pixels.append(Fixtures.idxPixel(n, r, c)) } } }
        let suffix = gzip ? ".gz" : ""
        try write(Fixtures.idx(dimensions: [count, rows, columns], bytes: pixels), to: "\(prefix)\(split)-images-idx3-ubyte\(suffix)", gzip: gzip)
        let labelBytes = (labels ?? (0..<count).map { $0 % 10 }).map { UInt8($0) }
        try write(Fixtures.idx(dimensions: [count], bytes: labelBytes), to: "\(prefix)\(split)-labels-idx1-ubyte\(suffix)", gzip: gzip)
    }

    /// CIFAR record pixel: channel c, position p of example n.
    static func cifarPixel(_ n: Int, _ c: Int, _ p: Int) -> UInt8 { UInt8((n * 5 + c * 50 + p) % 256) }

    /// A CIFAR-10 (`labelBytes` 1) or CIFAR-100 (2: coarse, fine) batch file.
    static func cifarRecords(labels: [Int], labelBytes: Int, firstExample: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        for (i, label) in labels.enumerated() {
            if labelBytes == 2 { out.append(UInt8(label / 5)) }  // coarse label: ignored by the reader
            out.append(UInt8(label))
            for c in 0..<3 { for p in 0..<1024 { out.append(cifarPixel(firstExample + i, c, p)) } }
        }
        return out
    }

    /// A digits.csv row: pixel i = (row + i) % 17, then the label.
    static func digitsRow(_ row: Int, label: Int) -> String {
        ((0..<64).map { String(format: "%.1f", Double((row + $0) % 17)) } + [String(format: "%.1f", Double(label))]).joined(separator: ",")
    }

    /// A gradient test image: HWC, value depends on x, y and channel.
    static func gradientImage(width: Int, height: Int, channels: Int) -> DecodedImage {
        var pixels: [UInt8] = []
        for y in 0..<height { for x in 0..<width { for c in 0..<channels { pixels.append(UInt8((x * 20 + y * 10 + c * 60) % 256)) } } }
        return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
    }
}

/// Asserts that `body` throws exactly `expected`.
func XCTAssertThrowsDatasetError<T>(_ body: @autoclosure () throws -> T, _ expected: DatasetError,
                                    file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual(error as? DatasetError, expected, file: file, line: line)
    }
}

/// The DatasetError `body` throws (failing the test when it throws nothing or something else).
func datasetError<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> DatasetError? {
    do {
        _ = try body()
        XCTFail("expected a DatasetError", file: file, line: line)
    } catch let error as DatasetError {
        return error
    } catch {
        XCTFail("expected a DatasetError, got \(error)", file: file, line: line)
    }
    return nil
}

/// A small in-memory dataset: image n is filled with byte (n * 10 + c) % 256 in channel c,
/// label n % classes, so every batch can be checked against its indices.
func makeTestDataset(count: Int, classes: Int = 3, channels: Int = 1, height: Int = 2, width: Int = 2) -> ImageDataset {
    let size = channels * height * width
    let storage = PixelStorage(count: count * size)
    for n in 0..<count { for c in 0..<channels { for p in 0..<(height * width) {
        storage.pointer[n * size + c * height * width + p] = UInt8((n * 10 + c) % 256)
    } } }
    return ImageDataset(name: "test", channels: channels, height: height, width: width, pixels: storage,
                        labels: (0..<count).map { $0 % classes }, classNames: ImageDataset.numberedClassNames(classes))
}
