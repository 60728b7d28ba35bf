/// One epoch of a trial's learning curve (`learning_curve`).
public struct LearningCurvePoint: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var learningRate: Double?
    public var seconds: Double?
    /// Accuracy and robust accuracy on the held-out validation split, for the epochs that were probed.
    public var valAccuracy: Double?
    public var valRobustAccuracy: Double?

    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, learningRate: Double? = nil, seconds: Double? = nil,
                valAccuracy: Double? = nil, valRobustAccuracy: Double? = nil) {
        (self.epoch, self.trainLoss, self.trainAccuracy, self.learningRate, self.seconds) = (epoch, trainLoss, trainAccuracy, learningRate, seconds)
        (self.valAccuracy, self.valRobustAccuracy) = (valAccuracy, valRobustAccuracy)
    }

    enum CodingKeys: String, CodingKey {
        case epoch, seconds
        case trainLoss = "train_loss", trainAccuracy = "train_accuracy", learningRate = "learning_rate"
        case valAccuracy = "val_accuracy", valRobustAccuracy = "val_robust_accuracy"
    }
}
