import Datasets
import Foundation
import NeuralNetworks
import TensorEngine

/// Accuracy of a model under common corruptions (Hendrycks & Dietterich 2019): for each (kind,
/// severity), every test image corrupted with its own random stream, then classified.
/// Corruptions need no gradients, so this is one forward pass per corrupted batch.
public struct CorruptionEvaluator {
    public var batchSize: Int

    /// Examples measured so far.
    public var progress: ExampleProgress?

    public init(batchSize: Int = 128, progress: ExampleProgress? = nil) {
        self.batchSize = batchSize
        self.progress = progress
    }

    public func evaluate(_ model: ImageClassifier, on dataset: ImageDataset, corruptions: [CorruptionSpec]) throws -> CorruptionReport {
        try Self.validate(model, on: dataset, corruptions: corruptions)
        guard batchSize >= 1 else { throw RobustnessError.invalidSetting(name: "batch size", reason: "must be at least 1, got \(batchSize)") }
        var tallies = corruptions.map { _ in Tally() }
        var cleanCorrect: [Bool] = []
        var cleanConfidence = 0.0
        let loader = try DataLoader(dataset: dataset, batchSize: batchSize, shuffle: false, prefetchDepth: 1)
        for batch in loader.batches(epoch: 0) {
            progress?(batch.index * batchSize, dataset.count)
            let (correct, confidence) = RobustnessEvaluator.judge(try RobustnessEvaluator.logits(model, batch.images), batch.labels)
            cleanCorrect += correct
            cleanConfidence += confidence.reduce(0.0) { $0 + Double($1) }
            for (i, spec) in corruptions.enumerated() {
                let (start, cpuStart) = (Date(), RobustnessEvaluator.cpuSeconds())
                let corrupted = try Self.corrupt(batch, spec)
                let (hits, confidences) = RobustnessEvaluator.judge(try RobustnessEvaluator.logits(model, corrupted), batch.labels)
                tallies[i].correct += hits
                tallies[i].broken += zip(correct, hits).filter { $0 && !$1 }.count
                tallies[i].confidence += confidences.reduce(0.0) { $0 + Double($1) }
                tallies[i].seconds += Date().timeIntervalSince(start)
                tallies[i].cpuSeconds += RobustnessEvaluator.cpuSeconds() - cpuStart
            }
        }
        let n = Double(max(dataset.count, 1))
        progress?(dataset.count, dataset.count)
        let cleanHits = cleanCorrect.filter { $0 }.count
        let results = zip(corruptions, tallies).map { spec, tally in
            CorruptionResult(kind: spec.kind, severity: spec.severity, accuracy: Double(tally.correct.filter { $0 }.count) / n,
                             successRate: cleanHits == 0 ? 0 : Double(tally.broken) / Double(cleanHits),
                             meanTrueConfidence: tally.confidence / n, correct: tally.correct,
                             seconds: tally.seconds, cpuSeconds: tally.cpuSeconds)
        }
        return CorruptionReport(cleanAccuracy: Double(cleanHits) / n, meanTrueConfidenceClean: cleanConfidence / n,
                                examples: dataset.count, results: results)
    }

    /// The batch's images corrupted one by one, each by its dataset index (split across the
    /// engine's threads; each image's result depends only on its own stream).
    static func corrupt(_ batch: Batch, _ spec: CorruptionSpec) throws -> Tensor {
        let shape = batch.images.shape
        let (channels, height, width) = (shape[1], shape[2], shape[3])
        let size = channels * height * width
        let source = batch.images.pointer
        let output = Tensor(shape: shape) { buffer in buffer.update(repeating: 0) }
        let destination = output.pointer
        let failure = FirstError()
        Parallel.forEachChunk(batch.count) { _, rows in
            for r in rows {
                var image = CorruptionImage(channels: channels, height: height, width: width,
                                            pixels: Array(UnsafeBufferPointer(start: source + r * size, count: size)))
                do { try spec.apply(&image, example: batch.indices[r]) } catch { failure.record(error); return }
                image.pixels.withUnsafeBufferPointer { (destination + r * size).update(from: $0.baseAddress!, count: size) }
            }
        }
        if let error = failure.error { throw error }
        return output
    }

    public static func validate(_ model: ImageClassifier, on dataset: ImageDataset, corruptions: [CorruptionSpec]) throws {
        for spec in corruptions { try spec.validate(channels: dataset.channels) }
        var seen = Set<String>()
        for spec in corruptions where !seen.insert(spec.label).inserted {
            throw RobustnessError.invalidSetting(name: "kinds", reason: "\(spec.label) is listed twice")
        }
        let d = model.modelDescription
        guard d.inputShape == [dataset.channels, dataset.height, dataset.width] else {
            throw RobustnessError.incompatible("\(d.name) expects images \(d.inputShape), dataset \(dataset.name) has \([dataset.channels, dataset.height, dataset.width])")
        }
        guard d.numClasses == dataset.classCount else {
            throw RobustnessError.incompatible("the model has \(d.numClasses) classes, dataset \(dataset.name) (after class selection) has \(dataset.classCount); pass --classes to match")
        }
    }

    struct Tally {
        var correct: [Bool] = []
        var broken = 0
        var confidence = 0.0
        var seconds = 0.0
        var cpuSeconds = 0.0
    }

    /// The first error thrown on any thread of a parallel loop.
    final class FirstError: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var error: Error?
        func record(_ error: Error) { lock.withLock { if self.error == nil { self.error = error } } }
    }
}
