import TensorEngine

/// Averages gradients across data-parallel replicas, in place. The single-process trainer
/// uses `LocalReducer`; the cluster provides a ring all-reduce. There is one trainer, not two.
public protocol GradientReducer: AnyObject {
    /// Replaces each gradient with its mean over all replicas. Called once per step with
    /// the gradients of the trainable parameters, in model order.
    func averageGradients(_ gradients: [(String, Tensor)]) throws
}

/// One process: nothing to average.
public final class LocalReducer: GradientReducer {
    public init() {}
    public func averageGradients(_ gradients: [(String, Tensor)]) throws {}
}

/// How a batch becomes a loss (plain cross-entropy, adversarial training, TRADES, DM...).
public protocol TrainingObjective {
    /// The loss to minimise and the logits on the clean inputs (for the running accuracy).
    func loss(model: ImageClassifier, images: Tensor, labels: [Int]) throws -> (loss: Tensor, logits: Tensor)
}

/// Mean softmax cross-entropy on the clean batch.
public struct CrossEntropyObjective: TrainingObjective {
    public init() {}
    public func loss(model: ImageClassifier, images: Tensor, labels: [Int]) throws -> (loss: Tensor, logits: Tensor) {
        let logits = try model(images)
        return (try logits.crossEntropy(labels: labels), logits)
    }
}

/// What one optimisation step measured.
public struct StepResult: Sendable {
    public var loss: Float
    public var correct: Int
    public var examples: Int
}

/// Runs optimisation steps: objective, backward, gradient averaging, optimizer, schedule.
public final class Trainer {
    public let model: ImageClassifier
    public let optimizer: Optimizer
    public let schedule: LearningRateSchedule
    public let objective: TrainingObjective
    public let reducer: GradientReducer
    /// Steps taken so far (the schedule's iteration).
    public private(set) var iteration = 0

    public init(model: ImageClassifier, optimizer: Optimizer, schedule: LearningRateSchedule = .constant,
                objective: TrainingObjective = CrossEntropyObjective(), reducer: GradientReducer = LocalReducer()) {
        (self.model, self.optimizer, self.schedule, self.objective, self.reducer) = (model, optimizer, schedule, objective, reducer)
    }

    /// One step on a batch. A loss that is NaN or infinite stops training with an error naming
    /// the step, before it can reach the parameters.
    public func step(images: Tensor, labels: [Int]) throws -> StepResult {
        model.train()
        optimizer.learningRateFactor = schedule.factor(atIteration: iteration)
        optimizer.zeroGrad()
        let (loss, logits) = try objective.loss(model: model, images: images, labels: labels)
        guard loss.item.isFinite else { throw TensorError.nonFinite(what: "training loss", step: iteration + 1) }
        try loss.backward()
        try reducer.averageGradients(model.trainableParameters.compactMap { name, p in p.grad.map { (name, $0) } })
        optimizer.step()
        iteration += 1
        return StepResult(loss: loss.item, correct: Metrics.correct(logits: logits, labels: labels), examples: labels.count)
    }
}

public enum Metrics {
    /// How many rows of `logits` have their largest value at the label (first maximum wins, as argmax).
    public static func correct(logits: Tensor, labels: [Int]) -> Int {
        let k = logits.shape[1]
        var hits = 0
        for (r, label) in labels.enumerated() {
            let row = logits.pointer + r * k
            var best = 0
            for j in 1..<k where row[j] > row[best] { best = j }
            if best == label { hits += 1 }
        }
        return hits
    }
}
