import ArgumentParser
import Datasets
import Foundation

struct BenchLoaderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loader",
        abstract: "Batches/s the data loader produces (Fashion-MNIST-shaped, batch 128, shuffle, crop + flip, prefetch).")

    @Option(help: "Batches to time.") var batches = 500
    @Option(name: .customLong("batch-size"), help: "Images per batch.") var batchSize = 128
    @Option(name: .customLong("prefetch"), help: "Batches the loader prepares ahead of the consumer.") var prefetchDepth = 2
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let r = try DataLoader.measureFashionMNISTShapedThroughput(batches: batches, batchSize: batchSize, prefetchDepth: prefetchDepth)
        if json {
            struct Line: Encodable { var batchesPerSecond: Double?; var imagesPerSecond: Double?; var batch: Int; var prefetch: Int }
            try JSONLines.print(Line(batchesPerSecond: JSONLines.finite((r.batchesPerSecond * 10).rounded() / 10),
                                     imagesPerSecond: JSONLines.finite((r.imagesPerSecond * 10).rounded() / 10), batch: batchSize, prefetch: prefetchDepth))
        } else {
            print(String(format: "loader: %.0f batches/s, %.0f images/s (batch %d, prefetch %d)",
                         r.batchesPerSecond, r.imagesPerSecond, batchSize, prefetchDepth))
        }
    }
}
