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
    /// AutoAttack's targeted difference of logits ratio, −(z_y − z_t) / (z_π1 − ½(z_π3 + z_π4)) with
    /// π the classes by decreasing logit (APGD-T). The ratio makes it invariant to shifting and
    /// scaling the logits, so a model cannot hide behind large logits. With 3 classes the scale is
    /// z_π1 − z_π3 (there is no π4); with 2 it is 1 (the loss is then the CW margin towards t).
    case targetedDLR(labels: [Int], targets: [Int])
    /// AutoAttack's untargeted difference of logits ratio, −(z_y − max_{j≠y} z_j) / (z_π1 − z_π3)
    /// (APGD-DLR of the `rand` version). With 2 classes the scale is 1 (the CW margin).
    case dlr(labels: [Int])

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
        case let .crossEntropy(labels), let .margin(labels), let .targetedDLR(labels, _), let .dlr(labels):
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
                    let best = Self.strongestOther(row, k, label: y)
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
            case let .targetedDLR(labels, targets):
                for r in 0..<n {
                    let row = z + r * k
                    Self.dlrSeedRow(row, k, d.baseAddress! + r * k, label: labels[r], against: targets[r], scale: Self.dlrScale(row, k))
                }
            case let .dlr(labels):
                // The untargeted DLR is the targeted one's formula towards the strongest other class.
                for r in 0..<n {
                    let row = z + r * k
                    Self.dlrSeedRow(row, k, d.baseAddress! + r * k, label: labels[r], against: Self.strongestOther(row, k, label: labels[r]),
                                    scale: Self.untargetedDLRScale(row, k))
                }
            }
        }
    }

    /// Per example, the loss the attack maximises (APGD keeps each example's highest-loss point).
    public func values(output: Tensor) -> [Float] {
        let n = output.shape[0], k = output.count / max(n, 1)
        let z = output.pointer
        return (0..<n).map { r in
            let row = z + r * k
            switch self {
            case let .crossEntropy(labels):
                var m = -Float.infinity
                for j in 0..<k { m = max(m, row[j]) }
                var s: Float = 0
                for j in 0..<k { s += Foundation.exp(row[j] - m) }
                return m + Foundation.log(s) - row[labels[r]]
            case let .margin(labels):
                var other = -Float.infinity
                for j in 0..<k where j != labels[r] { other = max(other, row[j]) }
                return other - row[labels[r]]
            case let .klFromClean(p):
                return Self.klRow(p.pointer + r * k, row, k)
            case let .featureDistance(reference):
                var d: Float = 0
                for j in 0..<k { let e = row[j] - reference.pointer[r * k + j]; d += e * e }
                return d
            case let .targetedDLR(labels, targets):
                return -(row[labels[r]] - row[targets[r]]) / (Self.dlrScale(row, k).value + Self.dlrGuard)
            case let .dlr(labels):
                let y = labels[r]
                return -(row[y] - row[Self.strongestOther(row, k, label: y)]) / (Self.untargetedDLRScale(row, k).value + Self.dlrGuard)
            }
        }
    }

    /// Keeps the DLR ratio finite when the top logits tie (AutoAttack's 1e-12).
    static let dlrGuard: Float = 1e-12

    /// The targeted DLR's denominator for one row and its gradient as (class, weight) pairs.
    static func dlrScale(_ row: UnsafePointer<Float>, _ k: Int) -> (value: Float, gradient: [(Int, Float)]) {
        guard k >= 3 else { return (1, []) }
        let ranked = (0..<k).sorted { row[$0] > row[$1] }
        if k == 3 { return (row[ranked[0]] - row[ranked[2]], [(ranked[0], 1), (ranked[2], -1)]) }
        return (row[ranked[0]] - 0.5 * (row[ranked[2]] + row[ranked[3]]), [(ranked[0], 1), (ranked[2], -0.5), (ranked[3], -0.5)])
    }

    /// d/dz of L = −(z_y − z_t)/s for one row into `d`: ∂L/∂z_y = −1/s, ∂L/∂z_t = 1/s, plus
    /// (z_y − z_t)/s² along ∂s/∂z (`scale`: s without the guard, and its gradient).
    static func dlrSeedRow(_ row: UnsafePointer<Float>, _ k: Int, _ d: UnsafeMutablePointer<Float>, label y: Int, against t: Int,
                           scale: (value: Float, gradient: [(Int, Float)])) {
        let s = scale.value + dlrGuard
        let difference = row[y] - row[t]
        for j in 0..<k { d[j] = 0 }
        d[y] -= 1 / s
        d[t] += 1 / s
        for (j, weight) in scale.gradient { d[j] += difference / (s * s) * weight }
    }

    /// The untargeted DLR's denominator z_π1 − z_π3 (1 with fewer than 3 classes) and its gradient.
    static func untargetedDLRScale(_ row: UnsafePointer<Float>, _ k: Int) -> (value: Float, gradient: [(Int, Float)]) {
        guard k >= 3 else { return (1, []) }
        let ranked = (0..<k).sorted { row[$0] > row[$1] }
        return (row[ranked[0]] - row[ranked[2]], [(ranked[0], 1), (ranked[2], -1)])
    }

    /// The highest-scoring class other than `label` (the first on ties).
    static func strongestOther(_ row: UnsafePointer<Float>, _ k: Int, label: Int) -> Int {
        var best = label == 0 ? 1 : 0
        for j in 0..<k where j != label && row[j] > row[best] { best = j }
        return best
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
