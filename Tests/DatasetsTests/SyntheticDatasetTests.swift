import XCTest
@testable import Datasets

final class SyntheticDatasetTests: XCTestCase {
    func testSameSeedSameBytesOtherSeedOtherBytes() throws {
        let config = SyntheticDataset(classes: 4, channels: 3, height: 12, width: 12, trainCount: 40, testCount: 8, seed: 7)
        let a = try config.make(.train), b = try config.make(.train)
        XCTAssertEqual(Array(a.pixels.buffer), Array(b.pixels.buffer))
        XCTAssertEqual(a.labels, (0..<40).map { $0 % 4 })
        var other = config
        other.seed = 8
        XCTAssertNotEqual(Array(try other.make(.train).pixels.buffer), Array(a.pixels.buffer))
        XCTAssertNotEqual(Array(try config.make(.test).pixels.buffer), Array(a.pixels.buffer.prefix(8 * 3 * 144)),
                          "test images are drawn from their own streams")
    }

    func testParametersParseAndAnyShapeWorks() throws {
        let dataset = try DatasetCatalog.load("synthetic:classes=13,channels=2,height=9,width=7,train=26,test=5,seed=3", split: .train)
        XCTAssertEqual(dataset.shape, [26, 2, 9, 7])
        XCTAssertEqual(dataset.classCount, 13)
        XCTAssertEqual(dataset.examplesPerClass, [Int](repeating: 2, count: 13))
        guard case .unrecognizedDataset? = datasetError(try SyntheticDataset(parameters: "colours=3")) else { return XCTFail("unknown key accepted") }
    }

    /// Learnable but not trivial: a nearest-class-mean classifier on raw pixels does better than
    /// chance (the classes carry signal) but is far from solving it (position, size, rotation,
    /// color and background vary per example).
    func testNearestMeanClassifierIsAboveChanceButFarFromPerfect() throws {
        let config = SyntheticDataset(classes: 10, channels: 3, height: 16, width: 16, trainCount: 2000, testCount: 500, seed: 1)
        let train = try config.make(.train), test = try config.make(.test)
        let size = train.imageSize
        var means = [[Double]](repeating: [Double](repeating: 0, count: size), count: 10)
        for n in 0..<train.count { let image = train.image(n); for i in 0..<size { means[train.labels[n]][i] += Double(image[i]) / 200 } }
        var correct = 0
        for n in 0..<test.count {
            let image = test.image(n)
            let distances = means.map { mean in (0..<size).reduce(0.0) { $0 + pow(Double(image[$1]) - mean[$1], 2) } }
            if distances.firstIndex(of: distances.min()!) == test.labels[n] { correct += 1 }
        }
        let accuracy = Double(correct) / Double(test.count)
        XCTAssertGreaterThan(accuracy, 0.15, "chance is 0.10")
        XCTAssertLessThan(accuracy, 0.7)
    }
}
