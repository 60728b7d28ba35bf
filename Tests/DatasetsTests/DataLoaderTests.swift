import XCTest
import TensorEngine
@testable import Datasets

final class DataLoaderTests: XCTestCase {
    /// Image n of `makeTestDataset` is the byte n*10 (+ c) everywhere, so its first float names it.
    private func imageIndex(_ batch: Batch, _ slot: Int) -> Int {
        let value = batch.images.pointer[slot * batch.images.shape[1...].reduce(1, *)]
        return Int((value * 255).rounded()) / 10
    }

    func testBatchesAreFloatNCHWInUnitRangeMatchingTheBytes() throws {
        let dataset = makeTestDataset(count: 10, classes: 3, channels: 3, height: 2, width: 2)
        let loader = try DataLoader(dataset: dataset, batchSize: 4, shuffle: false, prefetchDepth: 0)
        let batches = Array(loader.batches(epoch: 0))
        XCTAssertEqual(batches.map(\.count), [4, 4, 2])
        XCTAssertEqual(batches[1].images.shape, [4, 3, 2, 2])
        XCTAssertEqual(batches[1].labels, [1, 2, 0, 1])
        XCTAssertEqual(batches[1].indices, [4, 5, 6, 7])
        // Example 5, channel 2: byte 52.
        XCTAssertEqual(batches[1].images.pointer[1 * 12 + 2 * 4 + 3], Float(52) / 255)
        XCTAssertEqual(batches[2].globalCount, 2)
        let dropping = try DataLoader(dataset: dataset, batchSize: 4, shuffle: false, dropLast: true)
        XCTAssertEqual(dropping.batchesPerEpoch, 2)
        XCTAssertEqual(Array(dropping.batches(epoch: 0)).map(\.count), [4, 4])
    }

    func testShuffleIsSeededPerEpochAndCoversEveryExampleOnce() throws {
        let dataset = makeTestDataset(count: 23, classes: 3)
        let loader = try DataLoader(dataset: dataset, batchSize: 5, seed: 42)
        let epoch0 = Array(loader.batches(epoch: 0)).flatMap(\.indices)
        XCTAssertEqual(epoch0.sorted(), Array(0..<23))
        XCTAssertNotEqual(epoch0, Array(0..<23))
        XCTAssertEqual(Array(loader.batches(epoch: 0)).flatMap(\.indices), epoch0, "same seed, same epoch: same order")
        XCTAssertNotEqual(Array(loader.batches(epoch: 1)).flatMap(\.indices), epoch0, "each epoch reshuffles")
        let otherSeed = try DataLoader(dataset: dataset, batchSize: 5, seed: 43)
        XCTAssertNotEqual(Array(otherSeed.batches(epoch: 0)).flatMap(\.indices), epoch0)
        let batch = loader.batch(epoch: 0, index: 2)
        XCTAssertEqual(batch.indices, Array(epoch0[10..<15]))
        XCTAssertEqual((0..<batch.count).map { imageIndex(batch, $0) }, batch.indices, "pixels follow the indices")
        XCTAssertEqual(batch.labels, batch.indices.map { $0 % 3 })
    }

    func testShardsSplitEachGlobalBatchDisjointlyAndReassembleIt() throws {
        let dataset = makeTestDataset(count: 43, classes: 4, channels: 1, height: 6, width: 6)
        let single = try DataLoader(dataset: dataset, batchSize: 8, seed: 5, augmentation: Augmentation(cropPadding: 2, horizontalFlip: true))
        let world = 3
        let shards = try (0..<world).map { try single.shard(rank: $0, worldSize: world) }
        XCTAssertEqual(shards.map(\.batchesPerEpoch), [6, 6, 6])
        for epoch in 0..<2 {
            let reference = Array(single.batches(epoch: epoch))
            let perRank = shards.map { Array($0.batches(epoch: epoch)) }
            var seen: [Int] = []
            for (b, globalBatch) in reference.enumerated() {
                let slices = perRank.map { $0[b] }
                XCTAssertEqual(slices.flatMap(\.indices), globalBatch.indices)
                XCTAssertEqual(slices.flatMap(\.labels), globalBatch.labels)
                XCTAssertEqual(slices.flatMap { $0.images.values }, globalBatch.images.values, "augmentation does not depend on the rank")
                XCTAssertEqual(Set(slices.map(\.globalCount)), [globalBatch.count])
                seen += slices.flatMap(\.indices)
            }
            XCTAssertEqual(seen.sorted(), Array(0..<43), "every example exactly once per epoch")
        }
        // The last global batch has 3 examples: one per rank; with 4 ranks rank 0's slice
        // (positions 3*0/4 ..< 3*1/4) is empty and ranks 1-3 take one each.
        let lastSlices = try (0..<4).map { try single.shard(rank: $0, worldSize: 4).batch(epoch: 0, index: 5) }
        XCTAssertEqual(lastSlices[0].images.shape, [0, 1, 6, 6])
        XCTAssertEqual(lastSlices.map(\.count), [0, 1, 1, 1])
        XCTAssertEqual(lastSlices.flatMap(\.indices), single.batch(epoch: 0, index: 5).indices)
        XCTAssertThrowsError(try single.shard(rank: 3, worldSize: 3))
        XCTAssertThrowsError(try shards[0].shard(rank: 0, worldSize: 2))
    }

    func testPrefetchGivesTheSameBatchesInOrderAndStopsWhenAbandoned() throws {
        let dataset = makeTestDataset(count: 100, classes: 5, channels: 1, height: 4, width: 4)
        let augmentation = Augmentation(cropPadding: 1, horizontalFlip: true)
        let plain = try DataLoader(dataset: dataset, batchSize: 7, seed: 9, augmentation: augmentation, prefetchDepth: 0)
        let prefetched = try DataLoader(dataset: dataset, batchSize: 7, seed: 9, augmentation: augmentation, prefetchDepth: 3)
        let a = Array(plain.batches(epoch: 4)), b = Array(prefetched.batches(epoch: 4))
        XCTAssertEqual(a.map(\.index), Array(0..<15))
        XCTAssertEqual(b.map(\.index), Array(0..<15))
        XCTAssertEqual(a.map(\.indices), b.map(\.indices))
        XCTAssertEqual(a.map { $0.images.values }, b.map { $0.images.values })
        // Leaving after two batches must not hang or leak a blocked thread; a fresh epoch still works.
        for _ in 0..<20 {
            var taken = 0
            for _ in prefetched.batches(epoch: 0) { taken += 1; if taken == 2 { break } }
            XCTAssertEqual(taken, 2)
        }
        XCTAssertEqual(Array(prefetched.batches(epoch: 0)).count, 15)
    }

    func testCropAndFlipMoveThePixelsAsChosen() throws {
        // One 1x3x4 image with distinct bytes 1...12, row-major.
        let storage = PixelStorage(count: 12)
        for i in 0..<12 { storage.pointer[i] = UInt8(i + 1) }
        let dataset = ImageDataset(name: "t", channels: 1, height: 3, width: 4, pixels: storage, labels: [0], classNames: ["a"])
        var output = [Float](repeating: -1, count: 12)
        let table = BatchBuilder.byteToUnit
        func render(_ choice: Augmentation.Choice, padding: Int) -> [Int] {
            output.withUnsafeMutableBufferPointer { out in
                table.withUnsafeBufferPointer { BatchBuilder.write(dataset, index: 0, choice: choice, padding: padding, into: out.baseAddress!, table: $0.baseAddress!) }
            }
            return output.map { Int(($0 * 255).rounded()) }
        }
        XCTAssertEqual(render(.init(offsetY: 1, offsetX: 1, flip: false), padding: 1), Array(1...12), "centre crop is the identity")
        XCTAssertEqual(render(.init(offsetY: 1, offsetX: 1, flip: true), padding: 1), [4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9])
        // Window starting at padded (0, 2): shifted up-left by (-1, +1): top row is padding.
        XCTAssertEqual(render(.init(offsetY: 0, offsetX: 2, flip: false), padding: 1), [0, 0, 0, 0, 2, 3, 4, 0, 6, 7, 8, 0])
        // Crop first (window at padded (2, 0): source rows 1-2, columns -1...2), then flip the crop.
        XCTAssertEqual(render(.init(offsetY: 2, offsetX: 0, flip: true), padding: 1), [7, 6, 5, 0, 11, 10, 9, 0, 0, 0, 0, 0])

        // Over many draws the loader uses every offset and flips about half the time.
        var generator = RandomGenerator(seed: 1)
        let augmentation = Augmentation(cropPadding: 2, horizontalFlip: true)
        let choices = (0..<2000).map { _ in augmentation.choice(using: &generator) }
        XCTAssertEqual(Set(choices.map(\.offsetX)), Set(0...4))
        XCTAssertEqual(Set(choices.map(\.offsetY)), Set(0...4))
        XCTAssertEqual(Double(choices.filter(\.flip).count) / 2000, 0.5, accuracy: 0.05)
    }

    func testAugmentationIsSeededAndVariesAcrossEpochs() throws {
        let dataset = makeTestDataset(count: 8, classes: 2, channels: 1, height: 5, width: 5)
        let storage = dataset.pixels
        for i in 0..<storage.count { storage.pointer[i] = UInt8(i % 251) }  // varied pixels so crops differ
        let augmented = try DataLoader(dataset: dataset, batchSize: 8, shuffle: false, seed: 3,
                                       augmentation: Augmentation(cropPadding: 2, horizontalFlip: true))
        let again = try DataLoader(dataset: dataset, batchSize: 8, shuffle: false, seed: 3,
                                   augmentation: Augmentation(cropPadding: 2, horizontalFlip: true))
        let e0 = augmented.batch(epoch: 0, index: 0).images.values
        XCTAssertEqual(again.batch(epoch: 0, index: 0).images.values, e0)
        XCTAssertNotEqual(augmented.batch(epoch: 1, index: 0).images.values, e0)
        let plain = try DataLoader(dataset: dataset, batchSize: 8, shuffle: false).batch(epoch: 0, index: 0).images.values
        XCTAssertNotEqual(plain, e0)
        XCTAssertTrue(e0.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    func testInvalidLoaderArgumentsThrow() {
        let dataset = makeTestDataset(count: 4)
        XCTAssertThrowsDatasetError(try DataLoader(dataset: dataset, batchSize: 0),
                                    .invalidArgument(what: "loader for test", reason: "batch size 0 is not positive"))
        XCTAssertThrowsError(try DataLoader(dataset: dataset, batchSize: 2, augmentation: Augmentation(cropPadding: -1)))
    }

    func testThroughputMeasurementReportsConsistentNumbers() throws {
        let result = try DataLoader.measureFashionMNISTShapedThroughput(batches: 60)
        XCTAssertEqual(result.batches, 60)
        XCTAssertEqual(result.images, 60 * 128)
        XCTAssertGreaterThan(result.batchesPerSecond, 50, "a loader slower than this would starve the engine")
        XCTAssertEqual(result.imagesPerSecond, result.batchesPerSecond * 128, accuracy: result.imagesPerSecond * 1e-9)
    }
}
