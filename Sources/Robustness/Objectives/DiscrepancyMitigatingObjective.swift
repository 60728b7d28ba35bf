import NeuralNetworks
import TensorEngine

/// Discrepancy Mitigating fine-tuning (Zhang et al., AAAI 2023; DESIGN.md §1):
///
///     x_adv = argmax_{‖d‖∞ ≤ eps} ‖g(x + d) − g(x)‖²     (PGD on the penultimate features g, no labels,
///                                                          start x + 0.001·N(0, 1), step 1.25·eps/steps)
///     loss  = CE(f(x), y) + β · Σ (g(x_adv) − g(x))² / B
///
/// The feature term is a summed squared error divided by the batch size (the reference code's
/// `MSELoss(size_average=False)` / B, as TRADES does with its KL), so β = 500 weighs the
/// per-example feature discrepancy. Both g(x) and g(x_adv) carry gradients, as in the reference.
public final class DiscrepancyMitigatingObjective: TrainingObjective {
    public let beta: Float
    public let settings: PGDSettings
    private let seed: UInt64
    private var calls: UInt64 = 0

    public init(beta: Float = 500, eps: Float = 0.5 / 255, steps: Int = 10, stepSize: Float? = nil, seed: UInt64 = 0) {
        self.beta = beta
        settings = PGDSettings(norm: .linf, eps: eps, steps: steps, stepSize: stepSize ?? 1.25 * eps / Float(max(steps, 1)),
                               start: .gaussian(std: 0.001))
        self.seed = seed
    }

    public func loss(model: ImageClassifier, images: Tensor, labels: [Int]) throws -> (loss: Tensor, logits: Tensor) {
        var settings = self.settings
        settings.seed = seed &+ calls
        calls += 1
        let reference = try ProjectedGradientAttack.referenceFeatures(model, images: images)
        let adversarial = try ProjectedGradientAttack.run(model, images: images, loss: .featureDistance(reference: reference),
                                                          settings: settings)
        let clean = try model(images, capture: [.features])
        let attacked = try model(adversarial.images, capture: [.features])
        guard let features = clean.features, let adversarialFeatures = attacked.features else {
            throw RobustnessError.incompatible("\(model.modelDescription.name) does not expose penultimate features")
        }
        let discrepancy = try meanSquaredError(adversarialFeatures, features, reduction: .sum)
        let loss = try clean.logits.crossEntropy(labels: labels) + discrepancy * (beta / Float(labels.count))
        return (loss, clean.logits)
    }
}
