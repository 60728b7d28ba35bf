import Foundation

/// Bounds on what a sweep file may ask for, checked while it is parsed and before anything of
/// that size is built: a typo such as `range: [0, 10000000]` crossed with another axis must
/// be an error naming the key, not a coordinator that grows past the machine's memory.
public struct SweepLimits: Equatable, Sendable {
    /// Trials the whole sweep may expand to (all stages, all seeds).
    public var maxTrials: Int
    /// Nodes of the YAML document once every alias is expanded: anchors make a few lines
    /// stand for exponentially many nodes (an "alias bomb"), which Yams does not bound.
    public var maxNodes: Int
    /// Size of a sweep file on disk; sweeps are a few kilobytes.
    public var maxFileBytes: Int

    public static let defaultMaxTrials = 1_000_000
    /// The environment variable that raises or lowers `maxTrials` for every rt command (and
    /// the coordinators and workers they start, which inherit it).
    public static let maxTrialsVariable = "RT_MAX_TRIALS"

    public init(maxTrials: Int = SweepLimits.defaultMaxTrials, maxNodes: Int = 1_000_000, maxFileBytes: Int = 16 << 20) {
        self.maxTrials = maxTrials
        self.maxNodes = maxNodes
        self.maxFileBytes = maxFileBytes
    }

    /// The defaults, with `RT_MAX_TRIALS` applied when it holds a whole number of at least 1.
    public static var standard: SweepLimits {
        var limits = SweepLimits()
        if let text = ProcessInfo.processInfo.environment[maxTrialsVariable], let value = Int(text), value >= 1 {
            limits.maxTrials = value
        }
        return limits
    }

    /// `a * b` saturated just above the trial limit, so counts can be multiplied without
    /// overflow: any result above `maxTrials` only means "too many".
    func product(_ a: Int, _ b: Int) -> Int {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow || value > maxTrials ? maxTrials + 1 : value
    }

    func sum(_ a: Int, _ b: Int) -> Int {
        let (value, overflow) = a.addingReportingOverflow(b)
        return overflow || value > maxTrials ? maxTrials + 1 : value
    }

    /// How the limit reads in an error, with how to change it.
    var trialLimitText: String {
        "the limit of \(maxTrials) trials per sweep (\(Self.maxTrialsVariable) sets it)"
    }
}
