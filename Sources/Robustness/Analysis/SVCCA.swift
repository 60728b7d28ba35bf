import CBLAS
import TensorEngine

/// SVCCA (Raghu et al. 2017) between two representations of the same datapoints: each is reduced
/// to its top singular directions explaining `varianceKept` (99%) of its variance, then canonical
/// correlation analysis between the two reductions; the score is the mean canonical correlation.
///
/// Everything follows from the second moments, which are accumulated over minibatches in double
/// precision (so a whole test set never has to be in memory): with the centred covariances
/// Σ_AA = V Λ Vᵀ, Σ_BB = W M Wᵀ, the reduced representations A·V_k and B·W_l have the diagonal
/// covariances Λ_k and M_l, and the canonical correlations are the singular values of
/// T = Λ_k^{-1/2} V_kᵀ Σ_AB W_l M_l^{-1/2}. The singular directions of a centred data matrix are
/// the eigenvectors of its covariance, and their variances (squared singular values) its
/// eigenvalues. CCA is invariant to any invertible linear map of either reduced representation;
/// unlike CKA, SVCCA therefore barely moves under one (exactly not at all when every direction
/// is kept), and it is 1 for identical representations.
public struct SVCCAAccumulator {
    public let neuronsA: Int
    public let neuronsB: Int
    public private(set) var datapoints = 0
    private var sumA: [Double], sumB: [Double]
    /// AᵀA (upper triangle), BᵀB (upper triangle), AᵀB: row-major.
    private var productAA: [Double], productBB: [Double], productAB: [Double]

    /// The share of variance the kept singular directions explain (Raghu et al.: 99%).
    public static let varianceKept = 0.99

    public init(neuronsA: Int, neuronsB: Int) {
        (self.neuronsA, self.neuronsB) = (neuronsA, neuronsB)
        sumA = [Double](repeating: 0, count: neuronsA)
        sumB = [Double](repeating: 0, count: neuronsB)
        productAA = [Double](repeating: 0, count: neuronsA * neuronsA)
        productBB = [Double](repeating: 0, count: neuronsB * neuronsB)
        productAB = [Double](repeating: 0, count: neuronsA * neuronsB)
    }

    /// Adds `count` datapoints: row r of `a` (count × neuronsA) and of `b` (count × neuronsB),
    /// row-major, are the two representations of datapoint r.
    public mutating func add(a: UnsafePointer<Double>, b: UnsafePointer<Double>, count m: Int) {
        guard m > 0 else { return }
        let (p, q) = (Int32(neuronsA), Int32(neuronsB))
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, p, Int32(m), 1, a, p, 1, &productAA, p)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, q, Int32(m), 1, b, q, 1, &productBB, q)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, Int32(m), 1, a, p, b, q, 1, &productAB, q)
        for r in 0..<m {
            for j in 0..<neuronsA { sumA[j] += a[r * neuronsA + j] }
            for j in 0..<neuronsB { sumB[j] += b[r * neuronsB + j] }
        }
        datapoints += m
    }

    /// The score; nil with fewer than 2 datapoints or when a representation is constant.
    public func result(varianceKept: Double = varianceKept) throws -> SVCCAResult? {
        guard datapoints >= 2 else { return nil }
        let n = Double(datapoints)
        let covarianceA = Self.covariance(productAA, sum: sumA, sumB: sumA, n: n, symmetric: true)
        let covarianceB = Self.covariance(productBB, sum: sumB, sumB: sumB, n: n, symmetric: true)
        let cross = Self.covariance(productAB, sum: sumA, sumB: sumB, n: n, symmetric: false)
        guard let reducedA = try Self.topDirections(covarianceA, n: neuronsA, varianceKept: varianceKept),
              let reducedB = try Self.topDirections(covarianceB, n: neuronsB, varianceKept: varianceKept) else { return nil }
        let (k, l, p, q) = (reducedA.count, reducedB.count, neuronsA, neuronsB)
        // T = Λ_k^{-1/2} V_kᵀ Σ_AB W_l M_l^{-1/2}: V_kᵀ Σ_AB is (k × q), then times W_l (q × l).
        var left = [Double](repeating: 0, count: k * q), t = [Double](repeating: 0, count: k * l)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(k), Int32(q), Int32(p), 1, reducedA.directions, Int32(p),
                    cross, Int32(q), 0, &left, Int32(q))
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(k), Int32(l), Int32(q), 1, left, Int32(q),
                    reducedB.directions, Int32(q), 0, &t, Int32(l))
        for i in 0..<k {
            for j in 0..<l { t[i * l + j] /= (reducedA.variances[i] * reducedB.variances[j]).squareRoot() }
        }
        // Rounding can put a perfect correlation a hair above 1.
        let correlations = try LinearAlgebra.singularValues(t, rows: k, columns: l).map { min($0, 1) }
        return SVCCAResult(value: correlations.reduce(0, +) / Double(correlations.count), correlations: correlations,
                           directionsA: k, directionsB: l)
    }

    /// (S − s_a s_bᵀ / n) / n; the symmetric products hold only their upper triangle, mirrored here.
    static func covariance(_ product: [Double], sum: [Double], sumB: [Double], n: Double, symmetric: Bool) -> [Double] {
        let (p, q) = (sum.count, sumB.count)
        var c = [Double](repeating: 0, count: p * q)
        for i in 0..<p {
            for j in 0..<q {
                let raw = symmetric && j < i ? product[j * q + i] : product[i * q + j]
                c[i * q + j] = (raw - sum[i] * sumB[j] / n) / n
            }
        }
        return c
    }

    /// The fewest leading eigen-directions whose variances reach `varianceKept` of the total, as rows
    /// (k × n, row-major), and their variances; nil when the representation is constant.
    static func topDirections(_ covariance: [Double], n: Int, varianceKept: Double) throws -> (directions: [Double], variances: [Double], count: Int)? {
        let (values, vectors) = try LinearAlgebra.symmetricEigen(covariance, n: n)
        let variances = values.map { max($0, 0) }
        let total = variances.reduce(0, +)
        guard total > 0, total.isFinite else { return nil }
        // Directions with a numerically zero variance carry nothing and cannot be whitened.
        let usable = variances.prefix { $0 > 1e-12 * variances[0] }.count
        var k = 0, explained = 0.0
        while k < usable && explained < varianceKept * total {
            explained += variances[k]
            k += 1
        }
        return (Array(vectors[0..<(k * n)]), Array(variances[0..<k]), k)
    }
}

/// SVCCA between two representations at one stage.
public struct SVCCAResult: Sendable, Codable, Equatable {
    /// The mean canonical correlation.
    public var value: Double
    /// The min(k, l) canonical correlations, descending.
    public var correlations: [Double]
    /// Singular directions kept (99% of the variance) in each representation.
    public var directionsA: Int
    public var directionsB: Int
}
