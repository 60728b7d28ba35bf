import Cluster
import Foundation

/// `results.metrics` of a study trial, as docs/STUDY.md specifies it (the fields reports use).
struct StudyTrialMetrics: Decodable, Equatable {
    var role: String
    var task: String
    var model: String
    /// nil for analysis trials (a `cka` job measures representations, not a classifier).
    var cleanAccuracy: Double?
    /// Test images `clean_accuracy` is measured on (the whole test split); nil in older stores.
    var cleanExamples: Int?
    /// Clean accuracy on the attacked subset: the examples every robust accuracy is measured on.
    var attackedCleanAccuracy: Double?
    var attackedExamples: Int?
    var meanTrueConfidence: Double?
    var attacks: [Attack]
    var worstCaseAccuracy: Double?
    var cka: [CKAValue]
    /// Per epoch (docs/STUDY.md `learning_curve`); empty in stores from before it was kept.
    var learningCurve: [CurvePoint]
    /// Set by a re-evaluation (`rt evaluate`): the stage of the trial whose checkpoint it attacked.
    var evaluates: String?
    /// Common corruptions, when the sweep's `attacks:` has a corruption entry.
    var corruptions: CorruptionMetrics?

    struct Attack: Decodable, Equatable {
        var attack: String
        var norm: String
        var eps: Double
        var epsLabel: String
        var steps: Int
        var robustAccuracy: Double
        var successRate: Double?
        var meanTrueConfidenceClean: Double?
        var meanTrueConfidenceAdv: Double?

        var setting: AttackSetting { AttackSetting(attack: attack, norm: norm, eps: eps, epsLabel: epsLabel, steps: steps) }

        enum CodingKeys: String, CodingKey {
            case attack, norm, eps, steps
            case epsLabel = "eps_label"
            case robustAccuracy = "robust_accuracy"
            case successRate = "success_rate"
            case meanTrueConfidenceClean = "mean_true_confidence_clean"
            case meanTrueConfidenceAdv = "mean_true_confidence_adv"
        }
    }

    struct CurvePoint: Decodable, Equatable {
        var epoch: Int
        var trainLoss: Double
        var trainAccuracy: Double
        var learningRate: Double?
        var seconds: Double?
        var valAccuracy: Double?
        var valRobustAccuracy: Double?

        enum CodingKeys: String, CodingKey {
            case epoch, seconds
            case trainLoss = "train_loss", trainAccuracy = "train_accuracy", learningRate = "learning_rate"
            case valAccuracy = "val_accuracy", valRobustAccuracy = "val_robust_accuracy"
        }
    }

    struct CKAValue: Decodable, Equatable {
        var reference: String
        var layer: String
        var value: Double
    }

    enum CodingKeys: String, CodingKey {
        case corruptions
        case role, task, model, attacks, cka, evaluates
        case learningCurve = "learning_curve"
        case cleanAccuracy = "clean_accuracy"
        case meanTrueConfidence = "mean_true_confidence"
        case worstCaseAccuracy = "worst_case_accuracy"
        case cleanExamples = "clean_examples"
        case attackedCleanAccuracy = "attacked_clean_accuracy"
        case attackedExamples = "attacked_examples"
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        role = try container.decode(String.self, forKey: .role)
        task = try container.decode(String.self, forKey: .task)
        model = try container.decode(String.self, forKey: .model)
        // Only an analysis trial (`cka`) measures no classifier; for any other role a missing
        // clean accuracy is a broken trial and is reported as one.
        cleanAccuracy = role == Self.analysisRole
            ? try container.decodeIfPresent(Double.self, forKey: .cleanAccuracy)
            : try container.decode(Double.self, forKey: .cleanAccuracy)
        cleanExamples = try container.decodeIfPresent(Int.self, forKey: .cleanExamples)
        attackedCleanAccuracy = try container.decodeIfPresent(Double.self, forKey: .attackedCleanAccuracy)
        attackedExamples = try container.decodeIfPresent(Int.self, forKey: .attackedExamples)
        meanTrueConfidence = try container.decodeIfPresent(Double.self, forKey: .meanTrueConfidence)
        attacks = try container.decodeIfPresent([Attack].self, forKey: .attacks) ?? []
        corruptions = try container.decodeIfPresent(CorruptionMetrics.self, forKey: .corruptions)
        worstCaseAccuracy = try container.decodeIfPresent(Double.self, forKey: .worstCaseAccuracy)
        // A sweep asks for CKA or not (docs/STUDY.md): absent means none measured.
        cka = try container.decodeIfPresent([CKAValue].self, forKey: .cka) ?? []
        evaluates = try container.decodeIfPresent(String.self, forKey: .evaluates)
        learningCurve = try container.decodeIfPresent([CurvePoint].self, forKey: .learningCurve) ?? []
    }

    static let analysisRole = "cka"

    /// Whether a trial claims to be a study trial: its metrics name a role and a task.
    static func isStudy(_ metrics: [String: JSONValue]) -> Bool {
        metrics["role"]?.stringValue != nil && metrics["task"]?.stringValue != nil
    }

    /// The typed metrics, or a short reason they cannot be read (`attacks[1].eps_label: missing`).
    static func parse(_ metrics: [String: JSONValue]) -> Result<StudyTrialMetrics, MetricsError> {
        do {
            let data = try ClusterJSON.encode(JSONValue.object(metrics))
            return .success(try decoder.decode(StudyTrialMetrics.self, from: data))
        } catch let error as DecodingError {
            return .failure(MetricsError(problem: Self.describe(error)))
        } catch {
            return .failure(MetricsError(problem: "\(error)"))
        }
    }

    struct MetricsError: Error, Equatable { var problem: String }

    private static let decoder = JSONDecoder()

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
