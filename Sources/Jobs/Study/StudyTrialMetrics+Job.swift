import Cluster
import Foundation
import Robustness
import Study
import StudyMetrics

extension StudyTrialMetrics {
    /// The record as a job's metrics: the JSON object the store keeps and `Reports` reads back.
    func jobMetrics() throws -> [String: JSONValue] {
        let value: JSONValue
        do { value = try ClusterJSON.decode(JSONValue.self, from: ClusterJSON.encode(self)) } catch {
            // JSON has no NaN or Infinity: a measurement that produced one is named, not stored as garbage.
            throw JobError("the trial's metrics cannot be stored as JSON: \(error)")
        }
        guard case let .object(fields) = value else { throw JobError("the trial's metrics did not encode as a JSON object") }
        return fields
    }
}

extension AttackMetrics {
    /// One attack's result as it is stored; `name` is the attack's kind, or `<kind>-transfer`.
    init(_ attack: LabeledAttack, _ result: AttackResult, name: String) {
        self.init(attack: name, norm: result.norm, eps: Double(result.eps), epsLabel: attack.epsLabel, steps: result.steps,
                  robustAccuracy: result.robustAccuracy, successRate: result.successRate,
                  meanTrueConfidenceClean: result.meanTrueConfidenceClean,
                  meanTrueConfidenceAdv: result.meanTrueConfidenceAdversarial,
                  components: result.components?.map { Component(attack: $0.attack, steps: $0.steps, robustAccuracy: $0.robustAccuracy) })
    }
}

extension LearningCurvePoint {
    init(_ epoch: EpochSummary) {
        self.init(epoch: epoch.epoch, trainLoss: epoch.trainLoss, trainAccuracy: epoch.trainAccuracy,
                  learningRate: epoch.learningRate, seconds: epoch.seconds,
                  valAccuracy: epoch.validationAccuracy, valRobustAccuracy: epoch.validationRobustAccuracy)
    }
}
