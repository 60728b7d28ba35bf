import Foundation

/// Fixed number formatting for the human-readable formats (Markdown, HTML), so two renders of
/// one store are byte-identical and a non-finite value can never print as `NaN` or `inf`.
enum NumberText {
    static let missing = "—"

    static func fixed(_ value: Double, digits: Int = 3) -> String {
        guard value.isFinite else { return "n/a" }
        let text = String(format: "%.\(digits)f", value)
        // Rounding a tiny negative value leaves a sign that means nothing.
        return Double(text) == 0 ? String(format: "%.\(digits)f", 0.0) : text
    }

    /// With an explicit sign, for differences: `+0.050`, `−0.120`.
    static func signed(_ value: Double, digits: Int = 3) -> String {
        let text = fixed(value, digits: digits)
        guard value.isFinite else { return text }
        if text.hasPrefix("-") { return "−" + text.dropFirst() }
        return Double(text) == 0 ? text : "+" + text
    }

    /// `0.600 ± 0.248`; a mean of one value says it has no interval: `0.600 (n = 1, no CI)`.
    static func estimate(_ estimate: Estimate?, signed isSigned: Bool = false, digits: Int = 3) -> String {
        guard let estimate else { return missing }
        let mean = isSigned ? signed(estimate.mean, digits: digits) : fixed(estimate.mean, digits: digits)
        guard let halfWidth = estimate.halfWidth else { return "\(mean) (n = \(estimate.n), no CI)" }
        return "\(mean) ± \(fixed(halfWidth, digits: digits))"
    }

    static func seconds(_ value: Double?) -> String {
        guard let value else { return missing }
        return fixed(value, digits: 1) + " s"
    }

    /// Seconds, and from a minute on also in hours and minutes: `7384.0 s (2 h 03 min)`.
    static func duration(_ value: Double?) -> String {
        guard let value, value.isFinite, value >= 60 else { return seconds(value) }
        let minutes = Int((value / 60).rounded(.down))
        let clock = minutes >= 60 ? String(format: "%d h %02d min", minutes / 60, minutes % 60) : "\(minutes) min"
        return "\(seconds(value)) (\(clock))"
    }
}
