import Datasets
import Foundation
@testable import NeuralNetworks
import Robustness
import Study
import TensorEngine
import XCTest

/// Shared, seeded fixtures: a small synthetic task and a small CNN trained on it once per process.
enum Fixtures {
    /// 3 classes of 1×12×12 synthetic images: trains to high clean accuracy in seconds, and is
    /// far from robust without a robust objective.
    static let dataset = "synthetic:classes=3,channels=1,size=12,train=1200,test=200,seed=5"

    static func configuration(epochs: Int = 8, objective: ObjectiveSettings? = nil, dataset: String = dataset) -> TrainingConfiguration {
        var c = TrainingConfiguration(model: "small-cnn", dataset: dataset)
        c.epochs = epochs
        c.batchSize = 32
        c.learningRate = 0.05
        c.threads = 1
        c.seed = 7
        c.objective = objective
        return c
    }

    /// The plainly trained model (cross-entropy), trained on first use.
    static let trainedModel: ImageClassifier = {
        try! TrainingRun(configuration()).run(saveTo: nil).model
    }()

    static func testData(for model: ImageClassifier, limit: Int? = nil, dataset: String = dataset) throws -> ImageDataset {
        try EvaluationData.load(dataset: dataset, classes: nil, split: .test, limit: limit, for: model)
    }

    /// The first `count` test images and labels as one batch.
    static func batch(_ count: Int, for model: ImageClassifier, dataset: String = dataset) throws -> (images: Tensor, labels: [Int]) {
        let data = try testData(for: model, limit: count, dataset: dataset)
        let batch = try DataLoader(dataset: data, batchSize: count, shuffle: false, prefetchDepth: 0).batch(epoch: 0, index: 0)
        return (batch.images, batch.labels)
    }
}

extension Fixtures {
    /// Every image of `adversarial` in [0, 1] and within eps of its row of `clean` under `norm`.
    static func assertInBall(_ adversarial: Tensor, around clean: Tensor, norm: AttackNorm, eps: Float, _ name: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        let (a, c) = (adversarial.values, clean.values)
        XCTAssertTrue(a.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(name): inside [0, 1]", file: file, line: line)
        let n = clean.shape[0], d = a.count / max(n, 1)
        for r in 0..<n {
            let delta = (r * d..<(r + 1) * d).map { a[$0] - c[$0] }
            switch norm {
            case .linf: XCTAssertLessThanOrEqual(delta.map(abs).max()!, eps + 1e-6, "\(name) row \(r)", file: file, line: line)
            case .l2: XCTAssertLessThanOrEqual(delta.reduce(0) { $0 + $1 * $1 }.squareRoot(), eps * (1 + 1e-5), "\(name) row \(r)", file: file, line: line)
            }
        }
    }
}

/// A linear two-class model z = (0, w·x + b) behind the identity Normalize: its optimal attacks are
/// known in closed form, and it is an `ImageClassifier`, so the real attack code runs on it.
final class LinearBinaryClassifier: ImageClassifier {
    let fc: Linear

    init(w: [Float], b: Float, inputShape: [Int]) throws {
        var generator = RandomGenerator(seed: 0)
        fc = Linear(w.count, 2, generator: &generator)
        try super.init(description: ModelDescription(name: "linear", numClasses: 2, inputShape: inputShape,
                                                     mean: Array(repeating: 0, count: inputShape[0]),
                                                     std: Array(repeating: 1, count: inputShape[0])))
        for i in 0..<w.count { fc.weight.pointer[i] = 0; fc.weight.pointer[w.count + i] = w[i] }
        fc.bias!.pointer[0] = 0
        fc.bias!.pointer[1] = b
    }

    override var headName: String { "fc" }
    override var children: [(String, Module)] { [("fc", fc)] }

    override func run(_ x: Tensor, capture: Capture) throws -> ModelOutput {
        let flat = try x.flattened()
        let logits = try fc(flat)
        return ModelOutput(logits: logits, features: capture.contains(.features) ? flat : nil, stages: [])
    }
}

extension Fixtures {
    /// 10 classes of 1×12×12 synthetic images: APGD-T's 9 target classes and torchattacks' targeted
    /// DLR (which needs at least 4 classes) both apply.
    static let tenClassDataset = "synthetic:classes=10,channels=1,size=12,train=2000,test=500,seed=5"

    /// small-cnn on `tenClassDataset` (about 43% clean accuracy, 32% under PGD-20 at 1/255).
    static let tenClassModel: ImageClassifier = {
        try! TrainingRun(configuration(dataset: tenClassDataset)).run(saveTo: nil).model
    }()

    /// small-cnn trained with PGD-AT (4/255, 3 steps) on `dataset`: the robust fixture.
    static let robustModel: ImageClassifier = {
        try! TrainingRun(configuration(objective: ObjectiveSettings(kind: .pgdAT, eps: 4 / 255, steps: 3))).run(saveTo: nil).model
    }()
}

/// Another classifier behind a wrapper that counts its forward passes and can change its outputs:
/// the query budget and the model-output checks are tested through the real attack code.
final class WrappedClassifier: ImageClassifier {
    let inner: ImageClassifier
    let transform: (Tensor) throws -> Tensor
    private(set) var calls = 0
    private(set) var images = 0

    init(_ inner: ImageClassifier, transform: @escaping (Tensor) throws -> Tensor = { $0 }) throws {
        (self.inner, self.transform) = (inner, transform)
        try super.init(description: inner.modelDescription)
    }

    override var headName: String { "inner.\(inner.headName)" }
    override var children: [(String, Module)] { [("inner", inner)] }

    override func run(_ x: Tensor, capture: Capture) throws -> ModelOutput {
        calls += 1
        images += x.shape[0]
        var output = try inner.run(x, capture: capture)
        output.logits = try transform(output.logits)
        return output
    }

    func resetCounts() { (calls, images) = (0, 0) }
}
