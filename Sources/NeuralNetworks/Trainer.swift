import Foundation
import TensorEngine

/// How a batch becomes a loss (plain cross-entropy, adversarial training, TRADES, DM...).
public protocol TrainingObjective {
    /// The loss to minimise and the logits on the clean inputs (for the running accuracy).
    func loss(model: ImageClassifier, images: Tensor, labels: [Int]) throws -> (loss: Tensor, logits: Tensor)
    /// A resumed run goes on after `step` steps: an objective that draws per-step randomness
    /// (an inner attack's random start) draws what an uninterrupted run would draw next.
    func resume(atStep step: Int)
}

extension TrainingObjective {
    public func resume(atStep step: Int) {}
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
    /// Seconds the step waited for the replicas' sums after its backward (0 for one process).
    public var networkWaitSeconds: Double
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
    /// Seconds spent waiting for the replicas' sums after backward, over every step so far: the
    /// network time that backward did not hide (and any wait for a slower replica).
    public private(set) var networkWaitSeconds: Double = 0

    /// Continues a run from a checkpoint taken after `iteration` steps: the schedule goes on from there.
    public func resume(atIteration iteration: Int) {
        self.iteration = iteration
        objective.resume(atStep: iteration)
    }

    public init(model: ImageClassifier, optimizer: Optimizer, schedule: LearningRateSchedule = .constant,
                objective: TrainingObjective = CrossEntropyObjective(), reducer: GradientReducer = LocalReducer()) {
        (self.model, self.optimizer, self.schedule, self.objective, self.reducer) = (model, optimizer, schedule, objective, reducer)
    }

    /// One step on this replica's slice of a global batch of `globalCount` examples (default:
    /// the slice is the whole batch). A loss that is NaN or infinite stops training with an
    /// error naming the step, before it can reach the parameters. The result is the global
    /// batch's: loss and counts are summed over replicas.
    public func step(images: Tensor, labels: [Int], globalCount: Int? = nil) throws -> StepResult {
        model.train()
        optimizer.learningRateFactor = schedule.factor(atIteration: iteration)
        optimizer.zeroGrad()
        let parameters = model.trainableParameters
        let global = globalCount ?? labels.count
        let weight = global > 0 ? Float(labels.count) / Float(global) : 0
        try reducer.beginStep(parameters: parameters, weight: weight)
        var localLoss: Float = 0, correct = 0
        if !labels.isEmpty { // a replica's slice of a tiny last batch can be empty: it adds nothing
            let (loss, logits) = try objective.loss(model: model, images: images, labels: labels)
            guard loss.item.isFinite else { throw TensorError.nonFinite(what: "training loss", step: iteration + 1) }
            let reducer = self.reducer
            try loss.backward(onGradientFinal: reducer.worldSize > 1 ? { reducer.gradientReady($0) } : nil)
            localLoss = loss.item
            correct = Metrics.correct(logits: logits, labels: labels)
        }
        let waitStart = DispatchTime.now().uptimeNanoseconds
        try reducer.finishStep()
        let totals = try reducer.sum([localLoss * weight, Float(correct), Float(labels.count)])
        let waited = reducer.worldSize > 1 ? Double(DispatchTime.now().uptimeNanoseconds - waitStart) / 1e9 : 0
        networkWaitSeconds += waited
        optimizer.step()
        iteration += 1
        try reducer.parametersUpdated(parameters, iteration: iteration)
        return StepResult(loss: totals[0], correct: Int(totals[1]), examples: Int(totals[2]), networkWaitSeconds: waited)
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
