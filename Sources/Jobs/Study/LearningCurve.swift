import Foundation
import Study

/// A trial's latest epoch as the live progress note that `rt status` shows (the stored curve is
/// `StudyTrialMetrics.learningCurve`).
enum LearningCurve {
    /// `epoch 3: train loss 0.412 acc 0.861, val 0.850, val robust 0.412`: the latest finished epoch.
    static func note(_ epoch: EpochSummary) -> String {
        var text = "epoch \(epoch.epoch): train loss \(fixed(epoch.trainLoss)) acc \(fixed(epoch.trainAccuracy))"
        if let value = epoch.validationAccuracy { text += ", val \(fixed(value))" }
        if let value = epoch.validationRobustAccuracy { text += ", val robust \(fixed(value))" }
        return text
    }

    private static func fixed(_ value: Double) -> String { value.isFinite ? String(format: "%.3f", value) : "n/a" }
}
