import NeuralNetworks
import TensorEngine

/// TRADES (Zhang et al. 2019): CE(f(x), y) + β · KL(softmax f(x) ‖ softmax f(x_adv)) / B, with x_adv
/// maximising that KL by L∞ PGD from x + 0.001·N(0, 1) (the reference implementation's start).
public final class TRADESObjective: TrainingObjective {
    public let beta: Float
    public let settings: PGDSettings
    private let seed: UInt64
    private var calls: UInt64 = 0

    public init(beta: Float = 6, eps: Float = 8 / 255, steps: Int = 10, stepSize: Float? = nil, seed: UInt64 = 0) {
        self.beta = beta
        settings = PGDSettings(norm: .linf, eps: eps, steps: steps, stepSize: stepSize, start: .gaussian(std: 0.001))
        self.seed = seed
    }

    public func loss(model: ImageClassifier, images: Tensor, labels: [Int]) throws -> (loss: Tensor, logits: Tensor) {
        var settings = self.settings
        settings.seed = seed &+ calls
        calls += 1
        let cleanProbabilities = try AttackScope.run(model) { try withoutGradients { try model(images).softmax() } }
        let adversarial = try ProjectedGradientAttack.run(model, images: images, loss: .klFromClean(probabilities: cleanProbabilities),
                                                          settings: settings)
        let logits = try model(images)
        let adversarialLogits = try model(adversarial.images)
        let robust = try klDivergence(logInput: adversarialLogits.logSoftmax(), target: logits.softmax())
        let loss = try logits.crossEntropy(labels: labels) + robust * (beta / Float(labels.count))
        return (loss, logits)
    }
}
