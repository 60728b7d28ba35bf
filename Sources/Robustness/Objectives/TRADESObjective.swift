import NeuralNetworks
import TensorEngine

/// TRADES (Zhang et al. 2019): CE(f(x), y) + β · KL(softmax f(x) ‖ softmax f(x_adv)) / B, with x_adv
/// maximising that KL by L∞ PGD from x + 0.001·N(0, 1) (the reference implementation's start).
/// The KL is summed over the batch and the classes (the reference's `KLDivLoss(size_average=False)`),
/// then divided by B: β weighs the mean per-example KL.
public final class TRADESObjective: AdversarialObjective {
    public let beta: Float
    public let settings: PGDSettings
    private var seeds: StepSeeds

    public init(beta: Float = 6, eps: Float = 8 / 255, steps: Int = 10, stepSize: Float? = nil, seed: UInt64 = 0) {
        self.beta = beta
        settings = PGDSettings(norm: .linf, eps: eps, steps: steps, stepSize: stepSize, start: .gaussian(std: 0.001))
        seeds = StepSeeds(seed)
    }

    public func resume(atStep step: Int) { seeds.skip(to: step) }

    public func adversarialExamples(model: ImageClassifier, images: Tensor, labels: [Int], start: Tensor?) throws -> Tensor {
        var settings = self.settings
        settings.seed = seeds.next()
        let cleanProbabilities = try AttackScope.run(model) { try withoutGradients { try model(images).softmax() } }
        return try ProjectedGradientAttack.run(model, images: images, loss: .klFromClean(probabilities: cleanProbabilities),
                                               settings: settings, start: start).images
    }

    public func loss(model: ImageClassifier, images: Tensor, adversarial: Tensor, labels: [Int]) throws -> (loss: Tensor, logits: Tensor) {
        let logits = try model(images)
        let adversarialLogits = try model(adversarial)
        let robust = try klDivergence(logInput: adversarialLogits.logSoftmax(), target: logits.softmax())
        let loss = try logits.crossEntropy(labels: labels) + robust * (beta / Float(labels.count))
        return (loss, logits)
    }
}
