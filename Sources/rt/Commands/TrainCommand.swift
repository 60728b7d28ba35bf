import ArgumentParser
import Cluster
import DataParallel
import Foundation
import Jobs
import Robustness
import Study

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train one model on one task and write its checkpoint.",
        discussion: """
        Results go to standard output: on a terminal a line per epoch and a summary; otherwise (and
        with --json) one JSON object per epoch on its own line, then the summary. When standard error
        is a terminal (TERM not dumb) a progress bar there shows epoch, step, loss, accuracy, images/s
        and ETA (plain with NO_COLOR).
        The checkpoint is written only when training completes.
        With --replicas k, k processes on this machine train data-parallel (each takes its slice of
        every global batch; gradients are summed by a ring all-reduce over ipc://); this process is
        rank 0, which reports progress and writes the checkpoint.
        """)

    @Option(help: "Model: small-cnn, resnet8, resnet20, resnet18, resnet18-cifar.") var model = "small-cnn"
    @Option(help: "Dataset name (fashion-mnist, mnist, cifar10, cifar100, digits, synthetic[:k=v,...]) or path.") var dataset: String
    @Option(help: "Classes of the task, relabelled 0..k-1 in ascending order (e.g. 0-4, 5-9, 0,2,7).") var classes: String?
    @Option(name: .customLong("per-class"), help: "Training examples per class, chosen by seed.") var perClass: Int?
    @Option(help: "Passes over the training set.") var epochs = 10
    @Option(name: .customLong("batch-size"), help: "Examples per step (the global batch with --replicas).") var batchSize = 128
    @Option(help: "sgd, adam or adamw.") var optimizer = TrainingConfiguration.OptimizerKind.sgd
    @Option(help: "Learning rate (of the head when --backbone-lr is given).") var lr: Float = 0.05
    @Option(help: "Momentum of sgd (adam and adamw take none).") var momentum: Float = 0.9
    @Option(name: .customLong("weight-decay"), help: "Weight decay (L2 for sgd and adam, decoupled for adamw).") var weightDecay: Float = 5e-4
    @Option(help: "constant, step (×0.1 at each third) or cosine.") var schedule = TrainingConfiguration.ScheduleKind.cosine
    @Option(help: "Seed of the initialisation, the per-class sample, the batch order and the inner attack's random starts.") var seed: UInt64 = 0
    @Option(name: .customLong("init"), help: "Checkpoint of another task: keep its backbone, new classifier.") var initCheckpoint: String?
    @Option(name: .customLong("retrain-from"), help: "Freeze every parameter before this name (e.g. layer3).") var retrainFrom: String?
    @Option(name: .customLong("backbone-lr"), help: "Learning rate of the backbone (the head keeps --lr).") var backboneLR: Float?
    @Option(name: .customLong("crop-padding"), help: "Random-crop padding of training images (0: off).") var cropPadding = 0
    @Flag(name: .customLong("flip"), help: "Random horizontal flips of training images.") var flip = false
    @Option(name: .customLong("bn-slices"), help: "Batch-norm statistics over this many slices of each batch, as that many --replicas compute them (docs/DATA_PARALLEL.md).") var bnSlices: Int?
    @Option(help: "Threads the engine uses (per replica with --replicas).") var threads = 2
    @Option(name: .customLong("data-dir"), help: "Where datasets are looked for (default $RT_DATA_DIR).") var dataDirectory: String?
    @Option(help: "Training loss: ce, pgd-at, trades or dm (docs/ROBUSTNESS.md).") var objective = ObjectiveSettings.Kind.crossEntropy
    @Option(help: "Weight of the robust term (trades: 6, dm: 500).") var beta: Float?
    @Option(help: "Inner attack budget, L∞, e.g. 8/255 (pgd-at, trades: 8/255; dm: 0.5/255).") var eps: String?
    @Option(help: "Inner attack steps (default 10).") var steps: Int?
    @Option(name: .customLong("step-size"), help: "Inner attack step (default 2.5·eps/steps; dm 1.25·eps/steps).") var stepSize: String?
    @Option(help: "Where to write the checkpoint (safetensors).") var output: String?
    @Option(help: ArgumentHelp("Deprecated spelling of --output.", visibility: .hidden)) var out: String?
    @Flag(help: "JSON lines on standard output (each epoch, then the summary) even on a terminal.") var json = false
    @OptionGroup var dataParallel: DataParallelOptions

    private static let oldOutput = DeprecatedSpelling(command: "rt train", old: "--out", new: "--output")

    func validate() throws {
        try Self.oldOutput.checkNotBoth(output, out)
        if output == nil && out == nil { throw ValidationError("Missing expected argument '--output <output>': where to write the checkpoint") }
    }

    func run() throws {
        let out = Self.oldOutput.value(output, self.out)! // validate() checked that one is given
        let c = try configuration()
        let display = TrainingProgressDisplay(json: json)
        let summary: TrainingSummary
        if dataParallel.replicas > 1 {
            summary = try LocalReplicas(configuration: c, options: dataParallel).train(saveTo: out) { display.show($0) }
        } else {
            summary = try TrainingRun(c).run(saveTo: out) { display.show($0) }.summary
        }
        display.finish(summary)
    }

    func configuration() throws -> TrainingConfiguration {
        var c = TrainingConfiguration(model: model, dataset: dataset)
        c.classes = classes
        c.perClass = perClass
        c.epochs = epochs
        c.batchSize = batchSize
        c.optimizer = optimizer
        c.learningRate = lr
        c.momentum = momentum
        c.weightDecay = weightDecay
        c.schedule = schedule
        c.seed = seed
        c.initCheckpoint = initCheckpoint
        c.retrainFrom = retrainFrom
        c.backboneLearningRate = backboneLR
        c.cropPadding = cropPadding
        c.horizontalFlip = flip
        c.threads = threads
        c.batchNormSlices = bnSlices
        c.dataDirectory = dataDirectory
        if objective != .crossEntropy || beta != nil || eps != nil || steps != nil || stepSize != nil {
            c.objective = ObjectiveSettings(kind: objective, beta: beta, eps: try eps.map { try EpsilonParser.parse($0, name: "--eps") },
                                            steps: steps, stepSize: try stepSize.map { try EpsilonParser.parse($0, name: "--step-size") })
        }
        return c
    }
}

extension TrainingConfiguration.OptimizerKind: ExpressibleByArgument {}
extension TrainingConfiguration.ScheduleKind: ExpressibleByArgument {}
extension ObjectiveSettings.Kind: ExpressibleByArgument {}
