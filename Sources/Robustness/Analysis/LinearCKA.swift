/// Linear centered kernel alignment (Kornblith et al. 2019) estimated over minibatches with the
/// unbiased HSIC estimator (Nguyen, Raghu & Kornblith 2021):
///
///     CKA = Σ_b HSIC₁(K_b, L_b) / sqrt(Σ_b HSIC₁(K_b, K_b) · Σ_b HSIC₁(L_b, L_b)),  K_b = X_b X_bᵀ
///
/// Exact full-data CKA needs an n×n Gram matrix or p×p feature products (a 10,000-image conv
/// stage is a trillion multiply-adds); the minibatch estimator costs m²·p per batch of m, is
/// unbiased, invariant to orthogonal transforms and isotropic scaling of either representation,
/// and is 1 for identical representations.
public struct LinearCKAAccumulator {
    public private(set) var crossTerm = 0.0
    public private(set) var selfTermA = 0.0
    public private(set) var selfTermB = 0.0
    public private(set) var batches = 0

    public init() {}

    /// Adds one minibatch given its two Gram matrices (m×m, row-major, m ≥ 4).
    public mutating func add(gramA: UnsafePointer<Float>, gramB: UnsafePointer<Float>, count m: Int) {
        guard m >= 4 else { return }  // the unbiased estimator divides by m(m−3)
        crossTerm += Self.unbiasedHSIC(gramA, gramB, m)
        selfTermA += Self.unbiasedHSIC(gramA, gramA, m)
        selfTermB += Self.unbiasedHSIC(gramB, gramB, m)
        batches += 1
    }

    /// The estimate; nil when nothing was added or a representation is constant.
    public var value: Double? {
        let denominator = (selfTermA * selfTermB).squareRoot()
        guard batches > 0, denominator > 0, denominator.isFinite else { return nil }
        return crossTerm / denominator
    }

    /// HSIC₁ (Song et al. 2012): [tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1/((m−1)(m−2)) − 2/(m−2)·1ᵀK̃L̃1] / (m(m−3)),
    /// with K̃, L̃ the Gram matrices with zeroed diagonals.
    static func unbiasedHSIC(_ k: UnsafePointer<Float>, _ l: UnsafePointer<Float>, _ m: Int) -> Double {
        var trace = 0.0, sumK = 0.0, sumL = 0.0
        var rowK = [Double](repeating: 0, count: m), rowL = [Double](repeating: 0, count: m)
        for i in 0..<m {
            for j in 0..<m where j != i {
                let a = Double(k[i * m + j]), b = Double(l[i * m + j])
                trace += a * b   // tr(K̃L̃) = Σ K̃_ij L̃_ji and both are symmetric
                rowK[i] += a
                rowL[i] += b
            }
            sumK += rowK[i]
            sumL += rowL[i]
        }
        var rowProduct = 0.0
        for i in 0..<m { rowProduct += rowK[i] * rowL[i] }
        let md = Double(m)
        return (trace + sumK * sumL / ((md - 1) * (md - 2)) - 2 / (md - 2) * rowProduct) / (md * (md - 3))
    }
}
