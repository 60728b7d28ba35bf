import ArgumentParser
import Datasets
import Foundation
import NeuralNetworks
import Robustness
import Study
import TensorEngine

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Representation analysis: CKA or SVCCA between two models, frequency preference of one.",
        subcommands: [CKACommand.self, SVCCACommand.self, FrequencyCommand.self])
}

/// What `rt analyze cka` and `rt analyze svcca` share: two models, the inputs they see.
struct SimilarityOptions: ParsableArguments {
    @Option(help: "Checkpoint of the first model (safetensors).") var a: String
    @Option(help: "Checkpoint of the second model (safetensors).") var b: String
    @Option(help: "Dataset name (fashion-mnist, mnist, cifar10, cifar100, digits, synthetic[:k=v,...]) or path.") var dataset: String
    @Option(help: "Classes of the inputs (any view; no labels are used).") var classes: String?
    @Option(help: "Split the inputs come from: train or test.") var split = DatasetSplit.test
    @OptionGroup var examples: ExampleCountOptions
    @Option(name: .customLong("batch-size"), help: "Examples per forward pass (and the CKA estimator's minibatch).") var batchSize = 256
    @Option(help: "Threads the engine uses.") var threads = 2
    @Option(name: .customLong("data-dir"), help: "Where datasets are looked for (default $RT_DATA_DIR).") var dataDirectory: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if let count = examples.examples ?? examples.limit, count < 4 { throw ValidationError("--examples must be at least 4, got \(count)") }
        guard batchSize >= 4 else { throw ValidationError("--batch-size must be at least 4, got \(batchSize)") }
    }

    /// Loads both models and the inputs, and compares them stage by stage, with a progress line on a terminal.
    func compare(_ measure: SimilarityMeasure) throws -> (examples: Int, stages: [RepresentationSimilarity.StageSimilarity]) {
        let limit = examples.count("rt analyze \(measure.rawValue)")
        Parallel.threads = threads
        let (modelA, _) = try Checkpoint.load(a)
        let (modelB, _) = try Checkpoint.load(b)
        let data = try EvaluationData.load(dataset: dataset, classes: classes, split: split, limit: limit,
                                           imageShape: modelA.modelDescription.inputShape, dataDirectory: dataDirectory)
        let line = ProgressLine()
        defer { line.clear() }
        return (data.count, try RepresentationSimilarity.compare(modelA, modelB, on: data, batchSize: batchSize, measures: [measure],
                                                                  progress: line.examples(measure.rawValue)))
    }

    static func stageColumn(_ stage: String) -> String { stage.padding(toLength: 10, withPad: " ", startingAt: 0) }
}

struct CKACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cka",
        abstract: "Linear CKA between two models' activations at each stage, on the same inputs.",
        discussion: "Labels are not used: the models may classify different classes (pre-trained vs fine-tuned).")

    @OptionGroup var options: SimilarityOptions

    func run() throws {
        let (examples, stages) = try options.compare(.cka)
        if options.json {
            struct Stage: Encodable { var stage: String; var cka: Double? }
            struct Line: Encodable { var examples: Int; var stages: [Stage] }
            try JSONLines.print(Line(examples: examples, stages: stages.map { Stage(stage: $0.stage, cka: $0.cka.flatMap(JSONLines.finite)) }))
        } else {
            print("linear CKA on \(examples) examples")
            for s in stages { print(SimilarityOptions.stageColumn(s.stage) + String(format: " %.4f", s.cka ?? .nan)) }
        }
    }
}

struct SVCCACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "svcca",
        abstract: "SVCCA between two models' activations at each stage, on the same inputs.",
        discussion: """
        Per stage, each model's centred activations are reduced to the top singular directions that explain \
        99% of their variance, then canonical correlation analysis relates the two reductions; the score is \
        the mean canonical correlation (Raghu et al. 2017). A channel is a neuron and every (image, position) \
        a datapoint. Labels are not used: the models may classify different classes. See docs/ROBUSTNESS.md.
        """)

    @OptionGroup var options: SimilarityOptions

    func run() throws {
        let (examples, stages) = try options.compare(.svcca)
        if options.json {
            struct Stage: Encodable { var stage: String; var svcca: Double?; var directionsA: Int?; var directionsB: Int? }
            struct Line: Encodable { var examples: Int; var stages: [Stage] }
            try JSONLines.print(Line(examples: examples, stages: stages.map { s in
                Stage(stage: s.stage, svcca: s.svcca.flatMap { JSONLines.finite($0.value) },
                      directionsA: s.svcca?.directionsA, directionsB: s.svcca?.directionsB)
            }))
        } else {
            print("SVCCA (99% of the variance kept) on \(examples) examples")
            for s in stages {
                let kept = s.svcca.map { "  (\($0.directionsA) and \($0.directionsB) directions)" } ?? "  (a constant representation)"
                print(SimilarityOptions.stageColumn(s.stage) + String(format: " %.4f", s.svcca?.value ?? .nan) + kept)
            }
        }
    }
}

struct FrequencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frequency",
        abstract: "Accuracy on low- and high-pass filtered inputs, and the radial spectrum of PGD perturbations.")

    @Option(help: "The model's checkpoint (safetensors).") var checkpoint: String
    @Option(help: "Dataset name (fashion-mnist, mnist, cifar10, cifar100, digits, synthetic[:k=v,...]) or path.") var dataset: String
    @Option(help: "Classes of the task (as at training).") var classes: String?
    @Option(help: "Split to evaluate on: train or test.") var split = DatasetSplit.test
    @OptionGroup var examples: ExampleCountOptions
    @Option(help: "Radii of the radial frequency mask (in frequency-index units), comma-separated.") var radii = "2,4,6,8,10,12"
    @Option(help: "PGD budget for the perturbation spectrum, L∞ (0 skips the attack).") var eps = "8/255"
    @Option(help: "PGD iterations of the perturbation-spectrum attack.") var steps = 10
    @Option(help: "Seed of the attack's random start.") var seed: UInt64 = 0
    @Option(name: .customLong("batch-size"), help: "Examples per forward pass.") var batchSize = 128
    @Option(help: "Threads the engine uses.") var threads = 2
    @Option(name: .customLong("data-dir"), help: "Where datasets are looked for (default $RT_DATA_DIR).") var dataDirectory: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        _ = try radiusList()
        _ = try UsageCheck.reading(attack)
    }

    func radiusList() throws -> [Double] {
        try radii.split(separator: ",").map { item -> Double in
            guard let r = Double(item), r >= 0, r.isFinite else { throw ValidationError("--radii: '\(item)' is not a radius >= 0") }
            return r
        }
    }

    /// The PGD attack whose perturbations' spectrum is measured; nil for --eps 0.
    func attack() throws -> AttackSpec? {
        let budget = try EpsilonParser.parse(eps, name: "--eps")
        let attack = budget > 0 ? AttackSpec(kind: .pgd, eps: budget, steps: steps, seed: seed) : nil
        try attack?.validate()
        return attack
    }

    func run() throws {
        let radiusList = try self.radiusList()
        let attack = try self.attack()
        let limit = examples.count("rt analyze frequency")
        Parallel.threads = threads
        let (model, _) = try Checkpoint.load(checkpoint)
        let data = try EvaluationData.load(dataset: dataset, classes: classes, split: split, limit: limit,
                                           for: model, dataDirectory: dataDirectory)
        let line = ProgressLine()
        let report = try FrequencyAnalysis.run(model, on: data, radii: radiusList, attack: attack, batchSize: batchSize,
                                               progress: line.examples("frequency"))
        line.clear()
        if json {
            try JSONLines.print(report)
        } else {
            print(String(format: "clean accuracy %.2f%%  (%d examples)", 100 * report.cleanAccuracy, report.examples))
            print("radius  low-pass acc  high-pass acc")
            for (low, high) in zip(report.lowPass, report.highPass) {
                print(String(format: "%6.1f  %11.2f%%  %12.2f%%", low.radius, 100 * low.accuracy, 100 * high.accuracy))
            }
            if let spectrum = report.perturbationSpectrum {
                print("perturbation power by radius: " + spectrum.enumerated().map { String(format: "%d:%.3g", $0.offset, $0.element) }.joined(separator: " "))
            }
        }
    }
}
