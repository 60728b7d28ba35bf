/// Budgets are written as the researcher thinks of them: `8/255`, `0.031`, or a list `1/255,2/255,4/255`.
public enum EpsilonParser {
    /// One non-negative, finite number or fraction `a/b`.
    public static func parse(_ text: String, name: String = "eps") throws -> Float {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        let value: Double
        switch parts.count {
        case 1:
            guard let v = Double(parts[0]) else { throw RobustnessError.invalidSetting(name: name, reason: "'\(text)' is not a number or a fraction such as 8/255") }
            value = v
        case 2:
            guard let a = Double(parts[0]), let b = Double(parts[1]) else {
                throw RobustnessError.invalidSetting(name: name, reason: "'\(text)' is not a fraction such as 8/255")
            }
            guard b != 0 else { throw RobustnessError.invalidSetting(name: name, reason: "'\(text)' divides by zero") }
            value = a / b
        default:
            throw RobustnessError.invalidSetting(name: name, reason: "'\(text)' is not a number or a fraction such as 8/255")
        }
        guard value.isFinite else { throw RobustnessError.invalidSetting(name: name, reason: "'\(text)' is not finite") }
        guard value >= 0 else { throw RobustnessError.invalidSetting(name: name, reason: "'\(text)' is negative; a budget is at least 0") }
        return Float(value)
    }

    /// A comma-separated list of budgets (at least one).
    public static func parseList(_ text: String, name: String = "eps") throws -> [Float] {
        let items = text.split(separator: ",").map(String.init)
        guard !items.isEmpty else { throw RobustnessError.invalidSetting(name: name, reason: "no value given") }
        return try items.map { try parse($0, name: name) }
    }
}

import Foundation
