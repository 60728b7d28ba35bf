import NeuralNetworks
import TensorEngine

/// PGD adversarial training (Madry et al. 2018): minimise CE(f(x_adv), y) with x_adv from
/// L∞ PGD with a uniform random start, crafted in eval mode.
public final class AdversarialTrainingObjective: TrainingObjective {
    public let settings: PGDSettings
    private let seed: UInt64
    private var calls: UInt64 = 0

    public init(eps: Float = 8 / 255, steps: Int = 10, stepSize: Float? = nil, seed: UInt64 = 0) {
        settings = PGDSettings(norm: .linf, eps: eps, steps: steps, stepSize: stepSize, start: .uniform)
        self.seed = seed
    }

    public func loss(model: ImageClassifier, images: Tensor, labels: [Int]) throws -> (loss: Tensor, logits: Tensor) {
        var settings = self.settings
        settings.seed = seed &+ calls   // a fresh random start every step, reproducible from the run's seed
        calls += 1
        let adversarial = try ProjectedGradientAttack.run(model, images: images, loss: .crossEntropy(labels: labels), settings: settings)
        // The running accuracy is on the clean batch (the Trainer's contract): one forward without gradients.
        let cleanLogits = try AttackScope.run(model) { try withoutGradients { try model(images) } }
        let adversarialLogits = try model(adversarial.images)
        return (try adversarialLogits.crossEntropy(labels: labels), cleanLogits)
    }
}
