import Foundation
import TensorEngine

/// How fast the loader produces batches, for `rt bench` and BENCHMARKS.md.
public struct LoaderThroughput: Equatable, Sendable {
    public let batches: Int
    public let images: Int
    public let seconds: Double
    public var batchesPerSecond: Double { Double(batches) / seconds }
    public var imagesPerSecond: Double { Double(images) / seconds }
}

extension DataLoader {
    /// Times the consumption of `batches` batches, epoch after epoch, with a consumer that
    /// does nothing else: the loader's ceiling. The clock includes the first epoch's shuffle.
    public func measureThroughput(batches wanted: Int) throws -> LoaderThroughput {
        guard wanted > 0, batchesPerEpoch > 0 else {
            throw DatasetError.invalidArgument(what: "loader throughput", reason: "needs at least one batch to time (asked \(wanted), epoch has \(batchesPerEpoch))")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var (taken, images, epoch) = (0, 0, 0)
        while taken < wanted {
            for batch in batches(epoch: epoch) {
                images += batch.count
                taken += 1
                if taken == wanted { break }
            }
            epoch += 1
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return LoaderThroughput(batches: taken, images: images, seconds: max(seconds, 1e-9))
    }

    /// The standard measurement: Fashion-MNIST-shaped data (60,000 seeded random 1x28x28
    /// images, 10 classes; content does not change the loader's work), batch 128, shuffle on,
    /// random crop with 4 pixels of padding and horizontal flip, prefetch depth 2.
    public static func measureFashionMNISTShapedThroughput(batches: Int = 500, batchSize: Int = 128,
                                                           prefetchDepth: Int = 2, seed: UInt64 = 0) throws -> LoaderThroughput {
        let count = 60_000, imageSize = 28 * 28
        let storage = PixelStorage(count: count * imageSize)
        var generator = RandomGenerator(seed: seed, stream: "bench/pixels")
        var word: UInt64 = 0
        for i in 0..<storage.count {
            if i % 8 == 0 { word = generator.next() }
            storage.pointer[i] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(i % 8)))
        }
        let dataset = ImageDataset(name: "bench(fashion-mnist shape)", channels: 1, height: 28, width: 28, pixels: storage,
                                   labels: (0..<count).map { $0 % 10 }, classNames: ImageDataset.numberedClassNames(10))
        let loader = try DataLoader(dataset: dataset, batchSize: batchSize, shuffle: true, seed: seed,
                                     augmentation: Augmentation(cropPadding: 4, horizontalFlip: true), prefetchDepth: prefetchDepth)
        return try loader.measureThroughput(batches: batches)
    }
}
