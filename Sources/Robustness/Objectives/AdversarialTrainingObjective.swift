import NeuralNetworks
import TensorEngine

/// PGD adversarial training (Madry et al. 2018): minimise CE(f(x_adv), y) with x_adv from
/// L∞ PGD with a uniform random start, crafted in eval mode.
public final class AdversarialTrainingObjective: AdversarialObjective {
    public let settings: PGDSettings
    private var seeds: StepSeeds

    public init(eps: Float = 8 / 255, steps: Int = 10, stepSize: Float? = nil, seed: UInt64 = 0) {
        settings = PGDSettings(norm: .linf, eps: eps, steps: steps, stepSize: stepSize, start: .uniform)
        seeds = StepSeeds(seed)
    }

    public func resume(atStep step: Int) { seeds.skip(to: step) }

    public func adversarialExamples(model: ImageClassifier, images: Tensor, labels: [Int], start: Tensor?) throws -> Tensor {
        var settings = self.settings
        settings.seed = seeds.next()
        return try ProjectedGradientAttack.run(model, images: images, loss: .crossEntropy(labels: labels), settings: settings,
                                               start: start).images
    }

    public func loss(model: ImageClassifier, images: Tensor, adversarial: Tensor, labels: [Int]) throws -> (loss: Tensor, logits: Tensor) {
        // The running accuracy is on the clean batch (the Trainer's contract): one forward without gradients.
        let cleanLogits = try AttackScope.run(model) { try withoutGradients { try model(images) } }
        let adversarialLogits = try model(adversarial)
        return (try adversarialLogits.crossEntropy(labels: labels), cleanLogits)
    }
}
