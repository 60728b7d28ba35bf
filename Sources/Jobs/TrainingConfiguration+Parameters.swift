import Cluster
import Foundation
import Robustness
import Study

/// A sweep's parameters for a training run (the `train` job) in the sweep's one parameter
/// language: snake_case keys, as every study role reads them (`batch_size`, `learning_rate`,
/// `objective: {kind: trades, step_size: ...}`). camelCase (`batchSize`, the Codable names) is
/// accepted too, for sweeps written before. A key that names no setting is an error naming it,
/// never silently dropped.
extension TrainingConfiguration {
    public static func fromSweepParameters(_ parameters: [String: JSONValue], job: String = "train") throws -> TrainingConfiguration {
        guard case let .string(model)? = parameters["model"], case let .string(dataset)? = parameters["dataset"] else {
            throw JobError("\(job): parameters need \"model\" and \"dataset\" (strings)")
        }
        let defaults = TrainingConfiguration(model: model, dataset: dataset)
        let known = Self.settingNames(of: defaults)
        var merged = try ClusterJSON.decode([String: JSONValue].self, from: JSONEncoder().encode(defaults))
        for (key, value) in parameters {
            let name = Self.camelCase(key)
            guard known.contains(name) else {
                throw JobError("\(job): unknown parameter \(key); known: \(known.sorted().map(Self.snakeCase).joined(separator: ", "))")
            }
            merged[name] = name == "objective" ? try Self.objective(value, job: job) : value
        }
        do {
            return try JSONDecoder().decode(TrainingConfiguration.self, from: ClusterJSON.encode(merged))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let key = context.codingPath.map { Self.snakeCase($0.stringValue) }.joined(separator: ".")
            throw JobError("\(job): parameter \(key): \(context.debugDescription)")
        } catch {
            throw JobError("\(job): parameters are not a training configuration: \(error)")
        }
    }

    /// The objective's own keys, checked the same way.
    private static func objective(_ value: JSONValue, job: String) throws -> JSONValue {
        guard case let .object(fields) = value else { return value }
        let known = settingNames(of: ObjectiveSettings())
        var converted: [String: JSONValue] = [:]
        for (key, field) in fields {
            let name = camelCase(key)
            guard known.contains(name) else {
                throw JobError("\(job): unknown parameter objective.\(key); known: \(known.sorted().map(snakeCase).joined(separator: ", "))")
            }
            converted[name] = field
        }
        return .object(converted)
    }

    /// Stored property names, optional ones included (they are absent from an encoding).
    private static func settingNames(of value: Any) -> Set<String> {
        Set(Mirror(reflecting: value).children.compactMap(\.label))
    }

    static func camelCase(_ key: String) -> String {
        let parts = key.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count > 1 else { return key }
        return String(parts[0]) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func snakeCase(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase { out += "_" + character.lowercased() } else { out.append(character) }
        }
        return out
    }
}
