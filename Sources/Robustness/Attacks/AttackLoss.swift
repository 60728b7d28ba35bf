import Foundation
import TensorEngine

/// What an attack maximises, as a function of the model's output on the adversarial batch.
///
/// Each loss gives the gradient of its per-example *sum* with respect to the output in closed
/// form (the backward seed), so one `backward(seed:)` yields every example's input gradient
/// without building a loss graph. Sign steps (L∞), per-example L2 and L1 normalisation are
/// scale-free, so sum versus mean does not change the attack.
public enum AttackLoss {
    /// Cross-entropy against the true labels (FGSM, PGD, MI-FGSM).
    case crossEntropy(labels: [Int])
    /// Carlini–Wagner margin: max_{j≠y} z_j − z_y (CW-PGD).
    case margin(labels: [Int])
    /// KL(p_clean ‖ softmax(z)) (the TRADES inner maximisation); `probabilities` (N, K).
    case klFromClean(probabilities: Tensor)
    /// Σ (g − g_ref)² over the penultimate features (DM and feature-space transfer); `reference` (N, D).
    case featureDistance(reference: Tensor)

    /// Whether the attack differentiates the penultimate features instead of the logits.
    public var usesFeatures: Bool {
        if case .featureDistance = self { return true }
        return false
    }

    /// For each example, how far from adversarial it still is: lower is more adversarial.
    /// For label losses it is the logit margin z_y − max_{j≠y} z_j (negative: misclassified),
    /// otherwise the negated loss. Restarts keep, per example, the run with the lowest score.
    public func scores(output: Tensor) -> [Float] {
        let n = output.shape[0], k = output.count / max(n, 1)
        let z = output.pointer
        var scores = [Float](repeating: 0, count: n)
        switch self {
        case let .crossEntropy(labels), let .margin(labels):
            for r in 0..<n {
                let row = z + r * k, y = labels[r]
                var other = -Float.infinity
                for j in 0..<k where j != y { other = max(other, row[j]) }
                scores[r] = row[y] - other
            }
        case let .klFromClean(p):
            for r in 0..<n { scores[r] = -Self.klRow(p.pointer + r * k, z + r * k, k) }
        case let .featureDistance(reference):
            let g0 = reference.pointer
            for r in 0..<n {
                var d: Float = 0
                for j in 0..<k { let e = z[r * k + j] - g0[r * k + j]; d += e * e }
                scores[r] = -d
            }
        }
        return scores
    }

    /// d(Σ_examples loss)/d output, shaped like `output`.
    public func seed(output: Tensor) -> Tensor {
        let n = output.shape[0], k = output.count / max(n, 1)
        let z = output.pointer
        return Tensor(shape: output.shape) { d in
            switch self {
            case let .crossEntropy(labels):
                // softmax(z) − onehot(y)
                for r in 0..<n {
                    Self.softmaxRow(z + r * k, d.baseAddress! + r * k, k)
                    d[r * k + labels[r]] -= 1
                }
            case let .margin(labels):
                // +1 at the strongest other class, −1 at the true class
                for r in 0..<n {
                    let row = z + r * k, y = labels[r]
                    var best = y == 0 ? 1 : 0
                    for j in 0..<k where j != y && row[j] > row[best] { best = j }
                    for j in 0..<k { d[r * k + j] = 0 }
                    if k > 1 { d[r * k + best] = 1; d[r * k + y] = -1 }
                }
            case let .klFromClean(p):
                // d/dz Σ p (log p − log softmax z) = softmax(z) − p
                for r in 0..<n {
                    Self.softmaxRow(z + r * k, d.baseAddress! + r * k, k)
                    for j in 0..<k { d[r * k + j] -= p.pointer[r * k + j] }
                }
            case let .featureDistance(reference):
                let g0 = reference.pointer
                for i in 0..<output.count { d[i] = 2 * (z[i] - g0[i]) }
            }
        }
    }

    @inline(__always)
    static func softmaxRow(_ z: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ k: Int) {
        var m = -Float.infinity
        for j in 0..<k { m = max(m, z[j]) }
        var s: Float = 0
        for j in 0..<k { out[j] = Foundation.exp(z[j] - m); s += out[j] }
        for j in 0..<k { out[j] /= s }
    }

    static func klRow(_ p: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ k: Int) -> Float {
        var m = -Float.infinity
        for j in 0..<k { m = max(m, z[j]) }
        var s: Float = 0
        for j in 0..<k { s += Foundation.exp(z[j] - m) }
        let lse = m + Foundation.log(s)
        var kl: Float = 0
        for j in 0..<k where p[j] > 0 { kl += p[j] * (Foundation.log(p[j]) - (z[j] - lse)) }
        return kl
    }
}
