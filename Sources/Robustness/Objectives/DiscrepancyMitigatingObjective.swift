import NeuralNetworks
import TensorEngine

/// Discrepancy Mitigating fine-tuning (Zhang et al., AAAI 2023; DESIGN.md §1):
///
///     x_adv = argmax_{‖d‖∞ ≤ eps} ‖g(x + d) − g(x)‖²     (PGD on the penultimate features g, no labels,
///                                                          start x + 0.001·N(0, 1), step 1.25·eps/steps)
///     loss  = CE(f(x), y) + β · (1/B) · (1/(B·D)) · Σ_{b,d} (g(x_adv) − g(x))²_{b,d}
///
/// exactly the authors' train_dm.py: `criterion_mse = nn.MSELoss()` (the default *mean* over all
/// B × D elements of the feature matrix) and `loss = CE + beta * (1.0 / batch_size) * criterion_mse(...)`.
/// So β = 500 means what it means in the paper. (A *summed* squared error is B·D times stronger:
/// 8,192× for small-cnn at batch 64, and at β 500 the cheapest way to lower it is to make the
/// features constant, which collapses the model.) Both g(x) and g(x_adv) carry gradients, as in
/// the reference.
public final class DiscrepancyMitigatingObjective: AdversarialObjective {
    public let beta: Float
    public let settings: PGDSettings
    private var seeds: StepSeeds

    public init(beta: Float = 500, eps: Float = 0.5 / 255, steps: Int = 10, stepSize: Float? = nil, seed: UInt64 = 0) {
        self.beta = beta
        settings = PGDSettings(norm: .linf, eps: eps, steps: steps, stepSize: stepSize ?? 1.25 * eps / Float(max(steps, 1)),
                               start: .gaussian(std: 0.001))
        seeds = StepSeeds(seed)
    }

    public func resume(atStep step: Int) { seeds.skip(to: step) }

    public func adversarialExamples(model: ImageClassifier, images: Tensor, labels: [Int], start: Tensor?) throws -> Tensor {
        var settings = self.settings
        settings.seed = seeds.next()
        let reference = try ProjectedGradientAttack.referenceFeatures(model, images: images)
        return try ProjectedGradientAttack.run(model, images: images, loss: .featureDistance(reference: reference),
                                               settings: settings, start: start).images
    }

    public func loss(model: ImageClassifier, images: Tensor, adversarial: Tensor, labels: [Int]) throws -> (loss: Tensor, logits: Tensor) {
        let clean = try model(images, capture: [.features])
        let attacked = try model(adversarial, capture: [.features])
        guard let features = clean.features, let adversarialFeatures = attacked.features else {
            throw RobustnessError.incompatible("\(model.modelDescription.name) does not expose penultimate features")
        }
        let discrepancy = try meanSquaredError(adversarialFeatures, features, reduction: .mean)  // nn.MSELoss(): mean over B·D
        let loss = try clean.logits.crossEntropy(labels: labels) + discrepancy * (beta / Float(labels.count))
        return (loss, clean.logits)
    }
}
