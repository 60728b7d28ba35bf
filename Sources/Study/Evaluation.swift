import Datasets
import Foundation
import NeuralNetworks
import TensorEngine

/// Clean accuracy, mean loss and mean true-class confidence of a model on a dataset.
public struct EvaluationResult: Sendable, Codable, Equatable {
    public var accuracy: Double
    public var loss: Double
    public var meanTrueConfidence: Double
    public var examples: Int
    /// Whether each example (in dataset order) was classified correctly.
    public var correct: [Bool]

    enum CodingKeys: String, CodingKey {
        case accuracy, loss, examples
        case meanTrueConfidence = "mean_true_confidence"
        case correct
    }
}

public enum Evaluation {
    /// Runs the model in evaluation mode (restoring its mode after) without recording gradients.
    public static func evaluate(_ model: ImageClassifier, on dataset: ImageDataset, batchSize: Int = 256) throws -> EvaluationResult {
        try requireCompatible(model, dataset)
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        let loader = try DataLoader(dataset: dataset, batchSize: batchSize, shuffle: false, prefetchDepth: 1)
        var totalLoss = 0.0, totalConfidence = 0.0
        var correct: [Bool] = []
        correct.reserveCapacity(dataset.count)
        try withoutGradients {
            for batch in loader.batches(epoch: 0) {
                let logits = try model(batch.images)
                totalLoss += Double(try logits.crossEntropy(labels: batch.labels).item) * Double(batch.count)
                let probabilities = try logits.softmax()
                let k = logits.shape[1]
                for (row, label) in batch.labels.enumerated() {
                    totalConfidence += Double(probabilities.pointer[row * k + label])
                    let scores = logits.pointer + row * k
                    var best = 0
                    for j in 1..<k where scores[j] > scores[best] { best = j }
                    correct.append(best == label)
                }
            }
        }
        let n = Double(max(dataset.count, 1))
        return EvaluationResult(accuracy: Double(correct.filter { $0 }.count) / n, loss: totalLoss / n,
                                meanTrueConfidence: totalConfidence / n, examples: dataset.count, correct: correct)
    }

    /// The model and the data must agree on image shape and number of classes.
    public static func requireCompatible(_ model: ImageClassifier, _ dataset: ImageDataset) throws {
        let d = model.modelDescription
        guard d.inputShape == [dataset.channels, dataset.height, dataset.width] else {
            throw StudyError.invalidConfiguration("\(d.name) expects images \(d.inputShape), dataset \(dataset.name) has \([dataset.channels, dataset.height, dataset.width])")
        }
        guard d.numClasses == dataset.classCount else {
            throw StudyError.invalidConfiguration("the model has \(d.numClasses) classes, dataset \(dataset.name) (after class selection) has \(dataset.classCount); pass --classes to match")
        }
    }
}
