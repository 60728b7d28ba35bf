/// Bad input to an attack, an evaluation, an objective or an analysis: caught before any work starts.
public enum RobustnessError: Error, CustomStringConvertible, Equatable {
    /// A setting (`eps`, `steps`, `norm`, ...) has a value it cannot take.
    case invalidSetting(name: String, reason: String)
    /// An attack was asked for a norm it does not implement.
    case unsupportedNorm(attack: String, norm: String, supported: [String])
    /// The model and the data (or two models) do not fit together.
    case incompatible(String)

    public var description: String {
        switch self {
        case let .invalidSetting(name, reason): return "\(name): \(reason)"
        case let .unsupportedNorm(attack, norm, supported):
            return "attack \(attack) does not support norm \(norm); supported: \(supported.joined(separator: ", "))"
        case let .incompatible(reason): return reason
        }
    }
}

extension RobustnessError {
    /// An attack budget: finite and at least 0.
    static func requireBudget(_ eps: Float) throws {
        guard eps.isFinite, eps >= 0 else { throw invalidSetting(name: "eps", reason: "must be a finite value >= 0, got \(eps)") }
    }

    /// A count (steps, restarts, queries) that must be at least 1.
    static func requirePositive(_ value: Int, name: String, what: String = "") throws {
        guard value >= 1 else { throw invalidSetting(name: name, reason: "\(what)must be at least 1, got \(value)") }
    }
}
