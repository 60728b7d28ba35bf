import Datasets
import NeuralNetworks
import TensorEngine

/// Universal adversarial perturbation: one δ (C, H, W) with ‖δ‖∞ ≤ eps that raises the loss of
/// a whole dataset, found by signed stochastic gradient ascent over its batches (the SGD variant
/// of Shafahi et al., "Universal adversarial training", 2020) — one pass costs one forward and
/// one backward per batch, so 10,000 images take seconds to minutes, not hours.
public enum UniversalPerturbation {
    public struct Settings: Sendable {
        public var eps: Float
        /// Passes over the data.
        public var epochs: Int
        /// Step per batch; nil means eps/4.
        public var stepSize: Float?
        public var batchSize: Int
        public var seed: UInt64
        public init(eps: Float, epochs: Int = 5, stepSize: Float? = nil, batchSize: Int = 128, seed: UInt64 = 0) {
            (self.eps, self.epochs, self.stepSize, self.batchSize, self.seed) = (eps, epochs, stepSize, batchSize, seed)
        }
    }

    /// Returns δ, shaped (C, H, W). Attacked inputs are clip₀₁(x + δ).
    public static func craft(_ model: ImageClassifier, on dataset: ImageDataset, settings: Settings,
                             loss makeLoss: (_ labels: [Int]) -> AttackLoss = { .crossEntropy(labels: $0) }) throws -> Tensor {
        try PGDSettings(eps: settings.eps, steps: settings.epochs, stepSize: settings.stepSize).validate()
        guard Tape.isRecording else {
            throw RobustnessError.invalidSetting(name: "attack", reason: "needs input gradients; it was called inside withoutGradients { }")
        }
        let imageShape = [dataset.channels, dataset.height, dataset.width]
        guard model.modelDescription.inputShape == imageShape else {
            throw RobustnessError.incompatible("\(model.modelDescription.name) expects images \(model.modelDescription.inputShape), dataset \(dataset.name) has \(imageShape)")
        }
        let delta = Tensor(zeros: imageShape)
        guard settings.eps > 0, dataset.count > 0 else { return delta }
        let alpha = settings.stepSize ?? settings.eps / 4
        let loader = try DataLoader(dataset: dataset, batchSize: settings.batchSize, shuffle: true, seed: settings.seed, prefetchDepth: 1)
        let d = delta.count
        try AttackScope.run(model) {
            for epoch in 0..<settings.epochs {
                for batch in loader.batches(epoch: epoch) {
                    let adv = apply(delta, to: batch.images)
                    let loss = makeLoss(batch.labels)
                    try ProjectedGradientAttack.validate(loss, images: adv, classes: model.modelDescription.numClasses)
                    let g = try ProjectedGradientAttack.inputGradient(model, at: adv, loss: loss)
                    // ∂/∂δ of Σ loss(clip(x + δ)): the per-example gradients summed where the clip is not active.
                    let x = batch.images.pointer, gp = g.pointer, dp = delta.pointer
                    for pixel in 0..<d {
                        var total: Float = 0
                        for r in 0..<batch.count {
                            let v = x[r * d + pixel] + dp[pixel]
                            if v > 0 && v < 1 { total += gp[r * d + pixel] }
                        }
                        let stepped = dp[pixel] + (total > 0 ? alpha : (total < 0 ? -alpha : 0))
                        dp[pixel] = min(max(stepped, -settings.eps), settings.eps)
                    }
                }
            }
        }
        return delta
    }

    /// clip₀₁(x + δ) for every image of the batch.
    public static func apply(_ delta: Tensor, to images: Tensor) -> Tensor {
        let d = delta.count
        let x = images.pointer, dp = delta.pointer
        return Tensor(shape: images.shape) { out in
            for i in 0..<out.count { out[i] = min(max(x[i] + dp[i % d], 0), 1) }
        }
    }
}
