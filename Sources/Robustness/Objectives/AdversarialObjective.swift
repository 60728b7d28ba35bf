import NeuralNetworks
import TensorEngine

/// A robust objective in its two halves, so that each can be checked on its own against PyTorch
/// (ObjectiveGoldenTests): the inner maximisation crafts adversarial examples of the batch, the
/// outer loss trains on them. `loss(model:images:labels:)` is the two in turn.
public protocol AdversarialObjective: TrainingObjective {
    /// The inner maximisation (in eval mode, parameters frozen: `AttackScope`). `start` is its first
    /// iterate; nil draws a random one from the run's seed and the step number.
    func adversarialExamples(model: ImageClassifier, images: Tensor, labels: [Int], start: Tensor?) throws -> Tensor
    /// The outer loss at the given adversarial examples, in the model's current mode, and the clean logits.
    func loss(model: ImageClassifier, images: Tensor, adversarial: Tensor, labels: [Int]) throws -> (loss: Tensor, logits: Tensor)
}

extension AdversarialObjective {
    public func loss(model: ImageClassifier, images: Tensor, labels: [Int]) throws -> (loss: Tensor, logits: Tensor) {
        let adversarial = try adversarialExamples(model: model, images: images, labels: labels, start: nil)
        return try loss(model: model, images: images, adversarial: adversarial, labels: labels)
    }
}

/// The inner attack's seed at each training step: a fresh random start every step, reproducible
/// from the run's seed.
struct StepSeeds {
    let base: UInt64
    private var calls: UInt64 = 0

    init(_ base: UInt64) { self.base = base }

    /// Goes on as if `step` steps had drawn their seeds (a resumed run).
    mutating func skip(to step: Int) { calls = UInt64(max(0, step)) }

    mutating func next() -> UInt64 {
        defer { calls += 1 }
        return base &+ calls
    }
}
