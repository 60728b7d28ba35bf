import XCTest
@testable import Datasets

final class ClassSelectionTests: XCTestCase {
    let names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

    func testParsesRangesListsAndNames() throws {
        XCTAssertEqual(try ClassSelection.parse("0-4", classNames: names), [0, 1, 2, 3, 4])
        XCTAssertEqual(try ClassSelection.parse("5-9", classNames: names), [5, 6, 7, 8, 9])
        XCTAssertEqual(try ClassSelection.parse(" 7, 0,2 ,2", classNames: names), [0, 2, 7])
        XCTAssertEqual(try ClassSelection.parse("nine,0-1", classNames: names), [0, 1, 9])
        XCTAssertEqual(ClassSelection.describe([0, 1, 2, 3, 4, 7, 9, 10]), "0-4,7,9-10")
    }

    func testRejectsBadSpecsAndUnknownClasses() {
        XCTAssertThrowsDatasetError(try ClassSelection.parse("4-2", classNames: names), .invalidClassSpec(spec: "4-2", reason: "range 4-2 runs backwards"))
        XCTAssertThrowsDatasetError(try ClassSelection.parse("1,,2", classNames: names), .invalidClassSpec(spec: "1,,2", reason: "empty item between commas"))
        XCTAssertThrowsDatasetError(try ClassSelection.parse("8-12", classNames: names), .unknownClass(spec: "8-12", className: "12", available: "0-9"))
        XCTAssertThrowsDatasetError(try ClassSelection.parse("ten", classNames: names),
                                    .unknownClass(spec: "ten", className: "ten", available: names.joined(separator: ", ")))
    }

    func testSelectionRemapsLabelsInAscendingOriginalOrder() throws {
        let dataset = makeTestDataset(count: 20, classes: 10)
        let target = try dataset.selectingClasses([7, 5])
        XCTAssertEqual(target.count, 4)
        XCTAssertEqual(target.labels, [0, 1, 0, 1], "5 -> 0 and 7 -> 1, whatever order they were listed in")
        XCTAssertEqual(target.classNames, ["5", "7"])
        XCTAssertEqual(target.image(1)[0], 70, "the second example is original example 7")
        XCTAssertEqual(target.image(2)[0], 150)
        let source = try dataset.selectingClasses(spec: "0-4")
        XCTAssertEqual(source.classCount, 5)
        XCTAssertEqual(source.labels, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
        XCTAssertThrowsDatasetError(try dataset.selectingClasses([3, 10]), .unknownClass(spec: "3,10", className: "10", available: "0-9"))
    }
}

final class SamplingTests: XCTestCase {
    func testPerClassSampleIsSeededBalancedAndOrdered() throws {
        let dataset = makeTestDataset(count: 24, classes: 3)  // bytes n*10 stay below 256
        let a = try dataset.sampling(perClass: 4, seed: 11)
        XCTAssertEqual(a.examplesPerClass, [4, 4, 4])
        let again = try dataset.sampling(perClass: 4, seed: 11)
        XCTAssertEqual(Array(a.pixels.buffer), Array(again.pixels.buffer))
        let other = try dataset.sampling(perClass: 4, seed: 12)
        XCTAssertNotEqual(Array(a.pixels.buffer), Array(other.pixels.buffer))
        let firstBytes = (0..<a.count).map { Int(a.image($0)[0]) }
        XCTAssertEqual(firstBytes, firstBytes.sorted(), "kept in original order")
        for n in 0..<a.count { XCTAssertEqual(Int(a.image(n)[0]) / 10 % 3, a.labels[n], "labels travel with their images") }
        XCTAssertThrowsDatasetError(try dataset.sampling(perClass: 9, seed: 0),
                                    .invalidArgument(what: "per-class sample of test", reason: "class '0' has 8 examples, 9 asked"))
    }

    func testValidationSplitIsStratifiedDisjointAndComplete() throws {
        let dataset = makeTestDataset(count: 25, classes: 5)
        let (train, validation) = try dataset.splitValidation(fraction: 0.2, seed: 3)
        XCTAssertEqual(train.examplesPerClass, [4, 4, 4, 4, 4])
        XCTAssertEqual(validation.examplesPerClass, [1, 1, 1, 1, 1])
        let all = Set((0..<train.count).map { train.image($0)[0] } + (0..<validation.count).map { validation.image($0)[0] })
        XCTAssertEqual(all, Set((0..<25).map { UInt8($0 * 10 % 256) }))
        let again = try dataset.splitValidation(fraction: 0.2, seed: 3)
        XCTAssertEqual(Array(again.validation.pixels.buffer), Array(validation.pixels.buffer))
    }
}

final class ImageTransformTests: XCTestCase {
    func testBilinearUsesHalfPixelCentresAndRoundsHalfUp() throws {
        // Half-pixel centres: output 0..3 sample source -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1),
        // so row 1 is 0.75 * row 0 + 0.25 * row 1: [50, 71.875, 115.625, 137.5], rounded half up.
        let storage = PixelStorage(count: 4)
        for (i, v) in [0, 100, 200, 250].enumerated() { storage.pointer[i] = UInt8(v) }
        let dataset = ImageDataset(name: "t", channels: 1, height: 2, width: 2, pixels: storage, labels: [0], classNames: ["a"])
        let resized = try dataset.resized(height: 4, width: 4)
        XCTAssertEqual(Array(resized.image(0)), [0, 25, 75, 100, 50, 72, 116, 138, 150, 166, 197, 213, 200, 213, 238, 250])
        let down = try resized.resized(height: 2, width: 2)
        XCTAssertEqual(Array(down.image(0)), [37, 107, 182, 225], "2x downscale averages each 2x2 block")
    }

    func testGrayRGBConversionAndStatistics() throws {
        let storage = PixelStorage(count: 2 * 3 * 2)
        // Image 0: R=255, G=0, B=0 in both pixels; image 1: R=0, G=255, B=51.
        for (i, v) in [255, 255, 0, 0, 0, 0, 0, 0, 255, 255, 51, 51].enumerated() { storage.pointer[i] = UInt8(v) }
        let rgb = ImageDataset(name: "t", channels: 3, height: 1, width: 2, pixels: storage, labels: [0, 1], classNames: ["a", "b"])
        let gray = try rgb.converted(toChannels: 1)
        XCTAssertEqual(Array(gray.pixels.buffer), [76, 76, 155, 155], "0.299 * 255 = 76.2; 0.587 * 255 + 0.114 * 51 = 155.499")
        let back = try gray.converted(toChannels: 3)
        XCTAssertEqual(Array(back.image(1)), [155, 155, 155, 155, 155, 155])
        XCTAssertThrowsError(try rgb.converted(toChannels: 2))

        let statistics = rgb.channelStatistics()
        XCTAssertEqual(statistics.mean[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(statistics.std[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(statistics.mean[2], 0.1, accuracy: 1e-6)
        XCTAssertEqual(statistics.std[2], 0.1, accuracy: 1e-6)
    }
}
