import Datasets
import NeuralNetworks
import TensorEngine

/// Linear CKA between two models' activations, stage by stage, on the same inputs
/// (fine-tuned vs standard vs pre-trained: where do their representations part?).
public enum RepresentationSimilarity {
    public struct StageSimilarity: Sendable, Codable, Equatable {
        public var stage: String
        public var cka: Double
    }

    /// CKA per stage the two models share by name (same architecture: every stage), in model order.
    /// Labels are not used, so the models may classify different classes.
    public static func compare(_ a: ImageClassifier, _ b: ImageClassifier, on dataset: ImageDataset,
                               batchSize: Int = 256, progress: ExampleProgress? = nil) throws -> [StageSimilarity] {
        let shape = [dataset.channels, dataset.height, dataset.width]
        guard a.modelDescription.inputShape == shape, b.modelDescription.inputShape == shape else {
            throw RobustnessError.incompatible("both models must take the dataset's images \(shape); they take \(a.modelDescription.inputShape) and \(b.modelDescription.inputShape)")
        }
        guard batchSize >= 4 else { throw RobustnessError.invalidSetting(name: "batch size", reason: "CKA needs batches of at least 4, got \(batchSize)") }
        guard dataset.count >= 4 else { throw RobustnessError.invalidSetting(name: "dataset", reason: "CKA needs at least 4 examples, got \(dataset.count)") }
        // A trailing batch under 4 examples cannot be estimated: dropped, and so never biases the result.
        let loader = try DataLoader(dataset: dataset, batchSize: batchSize, shuffle: false, dropLast: dataset.count % batchSize < 4, prefetchDepth: 1)
        var names: [String]?
        var accumulators: [LinearCKAAccumulator] = []
        try AttackScope.run([a, b]) {
            try withoutGradients {
                for batch in loader.batches(epoch: 0) {
                    progress?(batch.index * batchSize, dataset.count)
                    let stagesA = try a(batch.images, capture: [.stages]).stages
                    let stagesB = Dictionary(try b(batch.images, capture: [.stages]).stages, uniquingKeysWith: { first, _ in first })
                    if names == nil {
                        names = stagesA.map(\.0).filter { stagesB[$0] != nil }
                        guard !names!.isEmpty else {
                            throw RobustnessError.incompatible("the models share no stage names (\(stagesA.map(\.0)) vs \(stagesB.keys.sorted()))")
                        }
                        accumulators = names!.map { _ in LinearCKAAccumulator() }
                    }
                    for (i, name) in names!.enumerated() {
                        let x = stagesA.first { $0.0 == name }!.1, y = stagesB[name]!
                        let gramA = try gram(x), gramB = try gram(y)
                        accumulators[i].add(gramA: gramA.pointer, gramB: gramB.pointer, count: batch.count)
                    }
                }
            }
        }
        progress?(dataset.count, dataset.count)
        return zip(names ?? [], accumulators).map { StageSimilarity(stage: $0, cka: $1.value ?? .nan) }
    }

    /// X Xᵀ of the activations flattened per example: (m, m).
    static func gram(_ activations: Tensor) throws -> Tensor {
        let m = activations.shape[0]
        let x = try activations.reshaped([m, activations.count / max(m, 1)])
        return try x.matmul(x.transposed())
    }
}
