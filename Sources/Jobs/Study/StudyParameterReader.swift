import Cluster
import Robustness
import Study

/// Reads a trial's parameters with errors that name the key, and remembers which keys were
/// read so that a misspelt key is reported instead of silently ignored.
struct StudyParameterReader {
    private let values: [String: JSONValue]
    private let path: String
    private(set) var consumed: Set<String> = []

    init(_ values: [String: JSONValue], path: String = "") {
        (self.values, self.path) = (values, path)
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func fail(_ key: String, _ problem: String) -> JobError { JobError("parameter \(name(key)): \(problem)") }

    mutating func raw(_ key: String) -> JSONValue? {
        consumed.insert(key)
        guard let value = values[key], value != .null else { return nil }
        return value
    }

    mutating func string(_ key: String) throws -> String? {
        guard let value = raw(key) else { return nil }
        switch value {
        case let .string(s): return s
        case let .int(i): return String(i)
        default: throw fail(key, "must be a string, got \(value)")
        }
    }

    mutating func int(_ key: String, atLeast minimum: Int? = nil) throws -> Int? {
        guard let value = raw(key) else { return nil }
        guard case let .int(i) = value else { throw fail(key, "must be an integer, got \(value)") }
        if let minimum, i < minimum { throw fail(key, "must be at least \(minimum), got \(i)") }
        return i
    }

    mutating func float(_ key: String) throws -> Float? {
        guard let value = raw(key) else { return nil }
        return try Self.number(value, name: name(key))
    }

    mutating func bool(_ key: String) throws -> Bool? {
        guard let value = raw(key) else { return nil }
        guard case let .bool(b) = value else { throw fail(key, "must be true or false, got \(value)") }
        return b
    }

    mutating func object(_ key: String) throws -> StudyParameterReader? {
        guard let value = raw(key) else { return nil }
        guard case let .object(o) = value else { throw fail(key, "must be a mapping, got \(value)") }
        return StudyParameterReader(o, path: name(key))
    }

    mutating func array(_ key: String) throws -> [JSONValue]? {
        guard let value = raw(key) else { return nil }
        if case let .array(a) = value { return a }
        return [value]
    }

    /// Budgets and rates may be written as numbers or fractions (`8/255`).
    static func number(_ value: JSONValue, name: String) throws -> Float {
        switch value {
        case let .int(i): return Float(i)
        case let .double(d): return Float(d)
        case let .string(s):
            do { return try EpsilonParser.parse(s, name: name) } catch { throw JobError("parameter \(error)") }
        default: throw JobError("parameter \(name): must be a number or a fraction such as 8/255, got \(value)")
        }
    }

    /// Every key that was never read is a mistake (a typo, or a setting this role does not take).
    func rejectUnknownKeys() throws {
        let unknown = Set(values.keys).subtracting(consumed).sorted()
        guard unknown.isEmpty else {
            throw JobError("unknown parameter\(unknown.count > 1 ? "s" : "") \(unknown.map(name).joined(separator: ", ")); known: \(consumed.sorted().joined(separator: ", "))")
        }
    }
}
