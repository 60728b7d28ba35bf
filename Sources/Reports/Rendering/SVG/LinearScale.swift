import Foundation

/// Maps a data interval onto a pixel interval, with round tick values.
struct LinearScale {
    var domain: (low: Double, high: Double)
    var range: (low: Double, high: Double)

    func callAsFunction(_ value: Double) -> Double {
        let span = domain.high - domain.low
        return range.low + (value - domain.low) / (span == 0 ? 1 : span) * (range.high - range.low)
    }

    /// Ticks at multiples of 1, 2, 2.5 or 5 × 10^k, about `count` of them, inside the domain.
    func ticks(count: Int = 5) -> [Double] {
        let span = domain.high - domain.low
        guard span > 0, span.isFinite else { return [domain.low] }
        let rough = span / Double(max(count, 1))
        let power = pow(10, floor(log10(rough)))
        let step = [1, 2, 2.5, 5, 10].map { $0 * power }.first { $0 >= rough } ?? 10 * power
        var ticks: [Double] = []
        var tick = ceil(domain.low / step - 1e-9) * step
        while tick <= domain.high + step * 1e-9 {
            ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
            tick += step
        }
        return ticks
    }

    /// A domain around the values with a margin, clamped to [0, 1] (accuracies and rates).
    static func unitDomain(around values: [Double], margin: Double = 0.05) -> (low: Double, high: Double) {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return (0, 1) }
        return (max(0, low - margin), min(1, high + margin))
    }
}
