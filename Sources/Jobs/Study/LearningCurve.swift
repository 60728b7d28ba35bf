import Cluster
import Foundation
import Study

/// A trial's epochs as stored in its metrics (`learning_curve`, docs/STUDY.md) and as the live
/// progress note that `rt status` shows.
enum LearningCurve {
    static func json(_ epochs: [EpochSummary]) -> JSONValue {
        .array(epochs.map { epoch in
            var point: [String: JSONValue] = [
                "epoch": .int(epoch.epoch), "train_loss": .double(epoch.trainLoss), "train_accuracy": .double(epoch.trainAccuracy),
                "learning_rate": .double(epoch.learningRate), "seconds": .double(epoch.seconds),
            ]
            if let value = epoch.validationAccuracy { point["val_accuracy"] = .double(value) }
            if let value = epoch.validationRobustAccuracy { point["val_robust_accuracy"] = .double(value) }
            return .object(point)
        })
    }

    /// `epoch 3: train loss 0.412 acc 0.861, val 0.850, val robust 0.412`: the latest finished epoch.
    static func note(_ epoch: EpochSummary) -> String {
        var text = "epoch \(epoch.epoch): train loss \(fixed(epoch.trainLoss)) acc \(fixed(epoch.trainAccuracy))"
        if let value = epoch.validationAccuracy { text += ", val \(fixed(value))" }
        if let value = epoch.validationRobustAccuracy { text += ", val robust \(fixed(value))" }
        return text
    }

    private static func fixed(_ value: Double) -> String { value.isFinite ? String(format: "%.3f", value) : "n/a" }
}
