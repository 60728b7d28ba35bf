import Cluster
import Foundation
import StudyMetrics

/// How reports read a stored trial's metrics into the record the jobs wrote (StudyMetrics).
extension StudyTrialMetrics {
    /// Whether a trial claims to be a study trial: its metrics name a role and a task.
    static func isStudy(_ metrics: [String: JSONValue]) -> Bool {
        metrics["role"]?.stringValue != nil && metrics["task"]?.stringValue != nil
    }

    /// The typed metrics, or a short reason they cannot be read (`attacks[1].eps_label: missing`).
    static func parse(_ metrics: [String: JSONValue]) -> Result<StudyTrialMetrics, MetricsError> {
        do {
            let data = try ClusterJSON.encode(JSONValue.object(metrics))
            return .success(try ClusterJSON.decode(StudyTrialMetrics.self, from: data))
        } catch let error as DecodingError {
            return .failure(MetricsError(problem: Self.describe(error)))
        } catch {
            return .failure(MetricsError(problem: "\(error)"))
        }
    }

    struct MetricsError: Error, Equatable { var problem: String }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [CodingKey], _ last: CodingKey? = nil) -> String {
            var text = ""
            for key in codingPath + (last.map { [$0] } ?? []) {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "metrics" : text
        }
        switch error {
        case let .keyNotFound(key, context): return "\(path(context.codingPath, key)): missing"
        case let .typeMismatch(type, context): return "\(path(context.codingPath)): expected \(type)"
        case let .valueNotFound(type, context): return "\(path(context.codingPath)): expected \(type), got null"
        case let .dataCorrupted(context): return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

extension AttackMetrics {
    var setting: AttackSetting { AttackSetting(attack: attack, norm: norm, eps: eps, epsLabel: epsLabel, steps: steps) }
}
