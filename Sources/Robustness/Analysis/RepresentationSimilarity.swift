import Datasets
import NeuralNetworks
import TensorEngine

/// How two representations are compared.
public enum SimilarityMeasure: String, CaseIterable, Sendable {
    /// Linear CKA (`LinearCKAAccumulator`): invariant to rotations and isotropic scaling.
    case cka
    /// SVCCA (`SVCCAAccumulator`): also invariant to invertible linear maps of the kept directions.
    case svcca
}

/// Linear CKA and SVCCA between two models' activations, stage by stage, on the same inputs
/// (fine-tuned vs standard vs pre-trained: where do their representations part?).
public enum RepresentationSimilarity {
    public struct StageSimilarity: Sendable, Codable, Equatable {
        public var stage: String
        /// nil when not asked for or not estimable (a constant representation).
        public var cka: Double?
        public var svcca: SVCCAResult?
    }

    /// The measures per stage the two models share by name (same architecture: every stage), in
    /// model order. Labels are not used, so the models may classify different classes.
    ///
    /// CKA compares examples (each image's flattened activations, Gram matrices per minibatch).
    /// SVCCA compares neurons, as Raghu et al. do for convolutional layers: a channel is a neuron
    /// and every (image, position) a datapoint, so its covariances are channels × channels however
    /// large the feature map; a (N, D) stage has N datapoints of D neurons.
    public static func compare(_ a: ImageClassifier, _ b: ImageClassifier, on dataset: ImageDataset,
                               batchSize: Int = 256, measures: Set<SimilarityMeasure> = Set(SimilarityMeasure.allCases),
                               progress: ExampleProgress? = nil) throws -> [StageSimilarity] {
        let shape = [dataset.channels, dataset.height, dataset.width]
        guard a.modelDescription.inputShape == shape, b.modelDescription.inputShape == shape else {
            throw RobustnessError.incompatible("both models must take the dataset's images \(shape); they take \(a.modelDescription.inputShape) and \(b.modelDescription.inputShape)")
        }
        guard !measures.isEmpty else { throw RobustnessError.invalidSetting(name: "measure", reason: "name at least one of \(SimilarityMeasure.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard batchSize >= 4 else { throw RobustnessError.invalidSetting(name: "batch size", reason: "CKA needs batches of at least 4, got \(batchSize)") }
        guard dataset.count >= 4 else { throw RobustnessError.invalidSetting(name: "dataset", reason: "CKA needs at least 4 examples, got \(dataset.count)") }
        // A trailing batch under 4 examples cannot be estimated: dropped, and so never biases the result.
        let loader = try DataLoader(dataset: dataset, batchSize: batchSize, shuffle: false, dropLast: dataset.count % batchSize < 4, prefetchDepth: 1)
        var names: [String]?
        var ckaAccumulators: [LinearCKAAccumulator] = []
        var svccaAccumulators: [SVCCAAccumulator] = []
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
                        ckaAccumulators = names!.map { _ in LinearCKAAccumulator() }
                        if measures.contains(.svcca) {
                            svccaAccumulators = try names!.map { name -> SVCCAAccumulator in
                                let x = stagesA.first { $0.0 == name }!.1, y = stagesB[name]!
                                return SVCCAAccumulator(neuronsA: try NeuronMatrix.neurons(x, stage: name),
                                                        neuronsB: try NeuronMatrix.neurons(y, stage: name))
                            }
                        }
                    }
                    for (i, name) in names!.enumerated() {
                        let x = stagesA.first { $0.0 == name }!.1, y = stagesB[name]!
                        if measures.contains(.cka) {
                            let gramA = try gram(x), gramB = try gram(y)
                            ckaAccumulators[i].add(gramA: gramA.pointer, gramB: gramB.pointer, count: batch.count)
                        }
                        if measures.contains(.svcca) {
                            let rowsA = try NeuronMatrix(x, stage: name), rowsB = try NeuronMatrix(y, stage: name)
                            guard rowsA.datapoints == rowsB.datapoints else {
                                throw RobustnessError.incompatible("stage \(name): SVCCA needs the same positions in both models, got \(x.shape) and \(y.shape)")
                            }
                            svccaAccumulators[i].add(a: rowsA.values, b: rowsB.values, count: rowsA.datapoints)
                        }
                    }
                }
            }
        }
        progress?(dataset.count, dataset.count)
        return try (names ?? []).indices.map { i in
            StageSimilarity(stage: names![i], cka: measures.contains(.cka) ? ckaAccumulators[i].value : nil,
                            svcca: measures.contains(.svcca) ? try svccaAccumulators[i].result() : nil)
        }
    }

    /// X Xᵀ of the activations flattened per example: (m, m).
    static func gram(_ activations: Tensor) throws -> Tensor {
        let m = activations.shape[0]
        let x = try activations.reshaped([m, activations.count / max(m, 1)])
        return try x.matmul(x.transposed())
    }
}

/// A stage's activations as SVCCA's datapoints × neurons, in double: (N, D) as it is; (N, C, H, W)
/// as N·H·W rows of C channels.
struct NeuronMatrix {
    let values: [Double]
    let datapoints: Int

    static func neurons(_ activations: Tensor, stage: String) throws -> Int {
        switch activations.rank {
        case 2, 4: return activations.shape[1]
        default: throw RobustnessError.incompatible("stage \(stage): SVCCA reads (N, D) or (N, C, H, W) activations, got \(activations.shape)")
        }
    }

    init(_ activations: Tensor, stage: String) throws {
        let channels = try Self.neurons(activations, stage: stage)
        let n = activations.shape[0], positions = activations.count / max(n * channels, 1)
        var values = [Double](repeating: 0, count: activations.count)
        let x = activations.pointer
        values.withUnsafeMutableBufferPointer { z in
            for image in 0..<n {
                let source = x + image * channels * positions
                for c in 0..<channels {
                    for s in 0..<positions { z[(image * positions + s) * channels + c] = Double(source[c * positions + s]) }
                }
            }
        }
        (self.values, self.datapoints) = (values, n * positions)
    }
}
