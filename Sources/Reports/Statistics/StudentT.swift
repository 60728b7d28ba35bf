import Foundation

/// Student's t distribution: the CDF from the regularized incomplete beta function and the
/// quantile by bisection on the CDF (monotone, so bisection cannot miss; 200 halvings of a
/// bracket below 2^20 reach full double precision).
public enum StudentT {
    /// Above this many degrees of freedom t and the standard normal differ by less than 1e-7
    /// at the quantiles reports use, and the continued fraction gets slow: use the normal.
    static let normalLimit = 1e7

    /// P(T ≤ t) for T with `degreesOfFreedom` > 0.
    public static func cdf(_ t: Double, degreesOfFreedom df: Double) -> Double {
        precondition(df > 0, "Student t needs positive degrees of freedom")
        if df > normalLimit { return 0.5 * erfc(-t / 2.0.squareRoot()) }
        let tail = 0.5 * IncompleteBeta.regularized(x: df / (df + t * t), a: df / 2, b: 0.5)
        return t > 0 ? 1 - tail : tail
    }

    /// The t with P(T ≤ t) = p, for 0 < p < 1.
    public static func quantile(_ p: Double, degreesOfFreedom df: Double) -> Double {
        precondition(p > 0 && p < 1, "a quantile needs 0 < p < 1")
        if p == 0.5 { return 0 }
        if p < 0.5 { return -quantile(1 - p, degreesOfFreedom: df) }
        var low = 0.0, high = 1.0
        while cdf(high, degreesOfFreedom: df) < p && high < 1e300 { high *= 2 }
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if middle == low || middle == high { break }
            if cdf(middle, degreesOfFreedom: df) < p { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }
}
