import Foundation

/// A mean over independent replicates (seeds) with the half-width of its two-sided 95%
/// confidence interval from Student's t with n − 1 degrees of freedom:
/// mean ± t(0.975, n − 1) · sd / √n, sd the sample standard deviation (divisor n − 1).
/// One replicate has no spread to estimate, so no interval: `halfWidth` is nil, never NaN.
public struct Estimate: Codable, Equatable, Sendable {
    public static let confidenceLevel = 0.95

    public var n: Int
    public var mean: Double
    public var standardDeviation: Double?
    public var halfWidth: Double?

    public init(n: Int, mean: Double, standardDeviation: Double?, halfWidth: Double?) {
        self.n = n
        self.mean = mean
        self.standardDeviation = standardDeviation
        self.halfWidth = halfWidth
    }

    /// nil for no values.
    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let n = values.count
        let mean = values.reduce(0, +) / Double(n)
        self.n = n
        self.mean = mean
        guard n > 1 else { return }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        let sd = variance.squareRoot()
        standardDeviation = sd
        halfWidth = Self.tQuantile(degreesOfFreedom: n - 1) * sd / Double(n).squareRoot()
    }

    public var low: Double? { halfWidth.map { mean - $0 } }
    public var high: Double? { halfWidth.map { mean + $0 } }

    static func tQuantile(degreesOfFreedom: Int) -> Double {
        criticalValues.value(degreesOfFreedom) {
            StudentT.quantile(1 - (1 - confidenceLevel) / 2, degreesOfFreedom: Double(degreesOfFreedom))
        }
    }

    /// A report takes thousands of estimates over a handful of seed counts; the quantile's
    /// bisection costs about a hundred CDF evaluations, so each df is solved once.
    private static let criticalValues = CriticalValueCache()

    enum CodingKeys: String, CodingKey {
        case n, mean
        case standardDeviation = "sd"
        case halfWidth = "ci95_half_width"
    }

    // Written by hand so an absent interval is an explicit `null`: every estimate has the same keys.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(n, forKey: .n)
        try container.encode(mean, forKey: .mean)
        try container.encode(standardDeviation, forKey: .standardDeviation)
        try container.encode(halfWidth, forKey: .halfWidth)
    }
}

private final class CriticalValueCache: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Double] = [:]

    func value(_ degreesOfFreedom: Int, compute: () -> Double) -> Double {
        lock.lock()
        defer { lock.unlock() }
        if let known = values[degreesOfFreedom] { return known }
        let value = compute()
        values[degreesOfFreedom] = value
        return value
    }
}
