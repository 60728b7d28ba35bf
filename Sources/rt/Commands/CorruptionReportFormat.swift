import ArgumentParser
import Foundation
import Robustness

/// `rt attack --attack corruption --kinds ... --severities ...`: reading the options.
enum CorruptionOptions {
    static let attackName = "corruption"

    /// The suite when `corruption` is among the attacks; --kinds and --severities without it are an error.
    static func suite(asked: Bool, kinds: String?, severities: String?, seed: UInt64) throws -> CorruptionSuite? {
        guard asked else {
            if kinds != nil { throw ValidationError("--kinds is for --attack corruption") }
            if severities != nil { throw ValidationError("--severities is for --attack corruption") }
            return nil
        }
        let levels = try severities.map { text in
            try text.split(separator: ",").map { part -> Int in
                guard let level = Int(part.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--severities: '\(part)' is not a whole number from 1 to 5")
                }
                return level
            }
        }
        do {
            return try CorruptionSuite.parse(kinds: kinds.map { $0.split(separator: ",").map(String.init) }, severities: levels, seed: seed,
                                             kindsKey: "--kinds", severitiesKey: "--severities")
        } catch { throw ValidationError("\(error)") }
    }
}

/// How `rt attack` prints corruption results as a table (the JSON is `AttackReportFormat.JSON`).
enum CorruptionReportFormat {
    static func table(_ report: CorruptionReport, withClean: Bool) -> String {
        var lines: [String] = []
        if withClean { lines.append(String(format: "clean accuracy %.2f%%  (%d examples)", 100 * report.cleanAccuracy, report.examples)) }
        lines.append("corruption         severity  accuracy  success  conf  images/s  img/CPU-s")
        for r in report.results {
            lines.append(r.kind.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)
                         + String(format: " %8d  %7.2f%%  %6.2f%%  %.4f  %8.1f  %9.1f", r.severity, 100 * r.accuracy, 100 * r.successRate,
                                  r.meanTrueConfidence, Double(report.examples) / max(r.seconds, 1e-9),
                                  Double(report.examples) / max(r.cpuSeconds, 1e-9)))
        }
        for kind in report.kinds {
            lines.append(String(format: "mean over severities, %@: %.2f%%", kind.rawValue, 100 * report.meanAccuracy(kind)))
        }
        lines.append(String(format: "mean corruption accuracy: %.2f%%", 100 * report.meanAccuracy))
        return lines.joined(separator: "\n")
    }
}
