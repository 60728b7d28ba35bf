import ArgumentParser
import Datasets
import Foundation
import NeuralNetworks
import Study
import TensorEngine

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Clean accuracy, mean loss and mean true-class confidence of a checkpoint on a dataset.")

    @Option(help: "The checkpoint to evaluate (safetensors).") var checkpoint: String
    @Option(help: "Dataset name (fashion-mnist, mnist, cifar10, cifar100, digits, synthetic[:k=v,...]) or path.") var dataset: String
    @Option(help: "Classes of the task (as at training).") var classes: String?
    @Option(help: "Split to evaluate on: train or test.") var split = DatasetSplit.test
    @OptionGroup var examples: ExampleCountOptions
    @Option(help: "Threads the engine uses.") var threads = 2
    @Option(name: .customLong("data-dir"), help: "Where datasets are looked for (default $RT_DATA_DIR).") var dataDirectory: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let limit = examples.count("rt eval")
        Parallel.threads = threads
        let (model, _) = try Checkpoint.load(checkpoint)
        let data = try EvaluationData.load(dataset: dataset, classes: classes, split: split, limit: limit,
                                           for: model, dataDirectory: dataDirectory)
        let result = try Evaluation.evaluate(model, on: data)
        if json {
            struct Line: Encodable { var accuracy: Double?; var loss: Double?; var meanTrueConfidence: Double?; var examples: Int }
            try JSONLines.print(Line(accuracy: JSONLines.finite(Double(result.accuracy)), loss: JSONLines.finite(Double(result.loss)),
                                     meanTrueConfidence: JSONLines.finite(Double(result.meanTrueConfidence)), examples: result.examples))
        } else {
            print(String(format: "accuracy %.2f%%  loss %.4f  mean true-class confidence %.4f  (%d examples)",
                         100 * result.accuracy, result.loss, result.meanTrueConfidence, result.examples))
        }
    }
}

extension DatasetSplit: ExpressibleByArgument {}
