import Datasets
import Foundation
import NeuralNetworks
import Robustness
import TensorEngine

/// What a training run reports as it goes.
public enum TrainingEvent: Sendable {
    case step(StepProgress)
    case epoch(EpochSummary)
}

public struct StepProgress: Sendable {
    public var epoch: Int, epochs: Int
    public var step: Int, stepsPerEpoch: Int
    /// Running means over the epoch so far.
    public var loss: Double, accuracy: Double
    public var imagesPerSecond: Double
    /// Seconds left at the current speed.
    public var remainingSeconds: Double
}

public struct EpochSummary: Sendable, Codable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    /// Accuracy and loss on the test split; nil for epochs the run did not evaluate
    /// (`evaluateEveryEpoch` off: only the last epoch is).
    public var testAccuracy: Double?
    public var testLoss: Double?
    public var learningRate: Double
    public var seconds: Double
    public var imagesPerSecond: Double
    /// What `TrainingRun.probe` measured after this epoch (on the held-out split); nil for the
    /// epochs it skipped.
    public var validationAccuracy: Double?
    public var validationRobustAccuracy: Double?
    /// Data-parallel runs (nil for one process): per step of this epoch, the milliseconds the
    /// trainer waited for the replicas' sums after backward, and the milliseconds the sums were
    /// in progress (`GradientReducer.communicationSeconds`). What the second exceeds the first
    /// by ran while backward was still computing.
    public var networkWaitMsPerStep: Double?
    public var allreduceMsPerStep: Double?

    enum CodingKeys: String, CodingKey {
        case epoch, seconds
        case trainLoss = "train_loss", trainAccuracy = "train_accuracy"
        case testAccuracy = "test_accuracy", testLoss = "test_loss"
        case learningRate = "learning_rate", imagesPerSecond = "images_per_second"
        case validationAccuracy = "val_accuracy", validationRobustAccuracy = "val_robust_accuracy"
        case networkWaitMsPerStep = "network_wait_ms_per_step", allreduceMsPerStep = "allreduce_ms_per_step"
    }
}

public struct TrainingSummary: Sendable, Codable {
    public var model: String
    public var dataset: String
    public var classes: Int
    public var trainExamples: Int
    public var testAccuracy: Double
    public var testLoss: Double
    public var meanTrueConfidence: Double
    public var seconds: Double
    public var checkpoint: String?
    /// The steps this run took (after a resume: those since it), the images per second of those
    /// steps (evaluation excluded), and, data-parallel, their network wait and all-reduce time
    /// per step (as in `EpochSummary`).
    public var steps: Int?
    public var imagesPerSecond: Double?
    public var networkWaitMsPerStep: Double?
    public var allreduceMsPerStep: Double?

    enum CodingKeys: String, CodingKey {
        case model, dataset, classes, seconds, checkpoint, steps
        case trainExamples = "train_examples", testAccuracy = "test_accuracy", testLoss = "test_loss"
        case meanTrueConfidence = "mean_true_confidence", imagesPerSecond = "images_per_second"
        case networkWaitMsPerStep = "network_wait_ms_per_step", allreduceMsPerStep = "allreduce_ms_per_step"
    }
}

/// One training run end to end: data, model (optionally from a checkpoint of another task),
/// freezing, parameter groups, optimizer and schedule, the epochs, and the checkpoint —
/// written only when the run completes, so a failed run leaves no partial file.
public struct TrainingRun {
    public let configuration: TrainingConfiguration
    public var objective: TrainingObjective = CrossEntropyObjective()
    public var reducer: GradientReducer = LocalReducer()
    /// Measure the test split after every epoch (a learning curve) or only after the last (sweeps,
    /// which evaluate the final model anyway and need not pay for the curve).
    public var evaluateEveryEpoch = true
    /// Every this many steps (0: never) rank 0 hands `onCheckpoint` the run's state (safetensors
    /// bytes: parameters, batch-norm statistics averaged over the replicas and, under
    /// `optimizer/`, the optimizer's state) and the number of steps taken. Data-parallel, every
    /// replica must set the same `checkpointEvery` and an `onCheckpoint` (the average is collective).
    public var checkpointEvery = 0
    public var onCheckpoint: ((Data, Int) throws -> Void)?
    /// Goes on from such a checkpoint: the model's and the optimizer's state, the schedule and the
    /// data position (the next global batch) are restored, so the steps that follow are the ones
    /// an uninterrupted run takes, and the batch-norm statistics end as an uninterrupted run's to rounding.
    public var resume: (checkpoint: Data, step: Int)?
    /// Polled after every step: when it answers true, rank 0 hands `onCheckpoint` the state
    /// (as above) and the run throws `TrainingStopped`, so a requeued attempt resumes from it.
    public var stopRequested: (() -> Bool)?
    /// Every `probeEvery` epochs and after the last (0: never), rank 0 measures the model on the
    /// held-out split (`validationPerClass`) with this: clean accuracy, and robust accuracy when
    /// it attacks. The learning curve's validation points.
    public var probeEvery = 0
    public var probe: ((ImageClassifier, ImageDataset) throws -> (accuracy: Double, robustAccuracy: Double?))?
    /// The checkpoint to start from, already decoded (a trial's parent); when nil, the run reads
    /// `configuration.initCheckpoint` if that names a file.
    public var initialCheckpoint: InitialCheckpoint?

    public init(_ configuration: TrainingConfiguration) {
        self.configuration = configuration
        objective = (configuration.objective ?? ObjectiveSettings()).makeObjective(seed: configuration.seed)
    }

    public func run(saveTo checkpointPath: String?, report: (TrainingEvent) throws -> Void = { _ in }) throws -> (model: ImageClassifier, summary: TrainingSummary) {
        let c = configuration
        try c.validate()
        Parallel.threads = c.threads
        let start = Date()

        // The source model decides the image shape and normalization the target data is brought to.
        let source = try initialCheckpoint ?? c.initCheckpoint.map(InitialCheckpoint.read)
        if let d = source?.description, d.name != c.model {
            throw StudyError.incompatibleCheckpoint(path: source!.name, reason: "it holds a \(d.name), --model is \(c.model)")
        }
        var options = DatasetLoadOptions()
        options.dataDirectory = c.dataDirectory
        if let d = source?.description { (options.channels, options.height, options.width) = (d.inputShape[0], d.inputShape[1], d.inputShape[2]) }
        let task = try DatasetTask.load(dataset: c.dataset, classes: c.classes, perClass: c.perClass, seed: c.seed, options: options,
                                        validationPerClass: c.validationPerClass)

        let statistics = source.map { ($0.description.mean, $0.description.std) } ?? (task.statistics.mean, task.statistics.std)
        let description = ModelDescription(name: c.model, numClasses: task.classCount, inputShape: task.imageShape,
                                           mean: statistics.0, std: statistics.1)
        let model = try ModelZoo.make(description, seed: c.seed)
        if let source {
            // Keep the backbone, re-initialise the classifier for the new classes.
            try model.load(source.file, path: source.name, skipping: [model.headName])
        }
        if let slices = c.batchNormSlices { model.normalizeBatchesInSlices(slices) }
        if let name = c.retrainFrom { try model.freezeBefore(name) }
        if c.linearProbe == true { try model.freezeBefore(model.headName) }

        let trainable = model.trainableParameters
        var groups: [ParameterGroup]
        if let backboneRate = c.backboneLearningRate {
            let head = trainable.filter { $0.0.hasPrefix(model.headName + ".") }
            let backbone = trainable.filter { !$0.0.hasPrefix(model.headName + ".") }
            groups = [ParameterGroup(parameters: backbone, learningRate: backboneRate, weightDecay: c.weightDecay),
                      ParameterGroup(parameters: head, learningRate: c.learningRate, weightDecay: c.weightDecay)]
        } else {
            groups = [ParameterGroup(parameters: trainable, learningRate: c.learningRate, weightDecay: c.weightDecay)]
        }
        let optimizer: Optimizer
        switch c.optimizer {
        case .sgd: optimizer = SGD(groups: groups, momentum: c.momentum)
        case .adam: optimizer = Adam(groups: groups)
        case .adamw: optimizer = Adam(groups: groups, decoupledWeightDecay: true)
        }

        var loader = try DataLoader(dataset: task.train, batchSize: c.batchSize, shuffle: true, seed: c.seed,
                                    augmentation: Augmentation(cropPadding: c.cropPadding, horizontalFlip: c.horizontalFlip))
        // Data-parallel: this replica's slice of every global batch (same batches, same order).
        if reducer.worldSize > 1 { loader = try loader.shard(rank: reducer.rank, worldSize: reducer.worldSize) }
        let steps = loader.batchesPerEpoch
        let totalSteps = steps * c.epochs
        let schedule: LearningRateSchedule
        switch c.schedule {
        case .constant: schedule = .constant
        case .step: schedule = .step(every: max(1, totalSteps / 3), gamma: 0.1)
        case .cosine: schedule = .cosine(total: totalSteps, floor: 0)
        }
        let trainer = Trainer(model: model, optimizer: optimizer, schedule: schedule, objective: objective, reducer: reducer)
        var (startEpoch, skippedBatches) = (0, 0)
        if let resume {
            let file = try SafeTensors.decode(resume.checkpoint, path: "resume checkpoint")
            let optimizerPrefix = "optimizer/"
            try model.load(SafeTensorsFile(tensors: file.tensors.filter { !$0.0.hasPrefix(optimizerPrefix) }), path: "resume checkpoint")
            var state: [String: Tensor] = [:]
            for (name, t) in file.tensors where name.hasPrefix(optimizerPrefix) { state[String(name.dropFirst(optimizerPrefix.count))] = t }
            try (optimizer as? OptimizerStateful)?.loadState(state)
            trainer.resume(atIteration: resume.step)
            (startEpoch, skippedBatches) = (resume.step / steps, resume.step % steps)
        }
        // Replicas must start from identical parameters (same seed, same checkpoint): checked once here.
        try reducer.parametersUpdated(trainable, iteration: 0)
        let evaluates = reducer.rank == 0 // the other replicas' models are the same: rank 0 speaks for all

        var last: EvaluationResult?
        let trainingStart = Date()
        let replicated = reducer.worldSize > 1
        /// Milliseconds per step of the network wait and of the all-reduces since `start`.
        func perStep(steps: Int, since start: (wait: Double, busy: Double)) -> (wait: Double?, busy: Double?) {
            guard replicated, steps > 0 else { return (nil, nil) }
            return (1000 * (trainer.networkWaitSeconds - start.wait) / Double(steps),
                    1000 * (reducer.communicationSeconds - start.busy) / Double(steps))
        }
        let runStart = (wait: trainer.networkWaitSeconds, busy: reducer.communicationSeconds)
        var (runSteps, runImages, runSeconds) = (0, 0, 0.0)
        for epoch in startEpoch..<c.epochs {
            let epochStart = Date()
            let epochTimes = (wait: trainer.networkWaitSeconds, busy: reducer.communicationSeconds)
            var lossSum = 0.0, correct = 0, seen = 0, epochSteps = 0
            for batch in loader.batches(epoch: epoch) where epoch > startEpoch || batch.index >= skippedBatches {
                let result = try trainer.step(images: batch.images, labels: batch.labels, globalCount: batch.globalCount)
                func snapshot(buffers: [String: Tensor] = [:]) throws -> Data {
                    let state = ((optimizer as? OptimizerStateful)?.stateTensors() ?? []).map { ("optimizer/" + $0.0, $0.1) }
                    let tensors = model.stateDict.map { ($0.0, buffers[$0.0] ?? $0.1) }
                    return try SafeTensors.encode(SafeTensorsFile(tensors: tensors + state))
                }
                if checkpointEvery > 0, trainer.iteration % checkpointEvery == 0, let onCheckpoint {
                    // Every replica takes part (a collective step): the checkpoint holds the replicas'
                    // mean batch-norm statistics, not rank 0's own, so a run resumed from it ends with
                    // the statistics an uninterrupted run averages at the epoch's end (the update is
                    // linear: the mean evolves as the replicas' would, to rounding).
                    let buffers = try averagedBufferCopies(model)
                    if evaluates { try onCheckpoint(snapshot(buffers: buffers), trainer.iteration) }
                }
                if let stopRequested, stopRequested() {
                    if evaluates, let onCheckpoint { try onCheckpoint(snapshot(), trainer.iteration) }
                    throw TrainingStopped(step: trainer.iteration, snapshotTaken: evaluates && onCheckpoint != nil)
                }
                epochSteps += 1
                lossSum += Double(result.loss) * Double(result.examples)
                correct += result.correct
                seen += result.examples
                let done = epoch * steps + batch.index + 1
                let elapsed = Date().timeIntervalSince(trainingStart)
                try report(.step(StepProgress(epoch: epoch + 1, epochs: c.epochs, step: batch.index + 1, stepsPerEpoch: steps,
                                          loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
                                          imagesPerSecond: Double(seen) / Date().timeIntervalSince(epochStart),
                                          remainingSeconds: elapsed / Double(done) * Double(totalSteps - done))))
            }
            let trainSeconds = Date().timeIntervalSince(epochStart)
            let network = perStep(steps: epochSteps, since: epochTimes)
            (runSteps, runImages, runSeconds) = (runSteps + epochSteps, runImages + seen, runSeconds + trainSeconds)
            // Buffers are batch-norm running statistics, gathered by each replica on its own shard.
            if reducer.worldSize > 1 { try reducer.averageBuffers(model.namedBuffers) }
            guard evaluates else { continue }
            let test = evaluateEveryEpoch || epoch == c.epochs - 1 ? try Evaluation.evaluate(model, on: task.test) : nil
            if let test { last = test }
            let probed = try task.validation.flatMap { validation -> (accuracy: Double, robustAccuracy: Double?)? in
                guard let probe, probeEvery > 0, (epoch + 1) % probeEvery == 0 || epoch == c.epochs - 1 else { return nil }
                return try probe(model, validation)
            }
            try report(.epoch(EpochSummary(epoch: epoch + 1, trainLoss: lossSum / Double(max(seen, 1)),
                                       trainAccuracy: Double(correct) / Double(max(seen, 1)),
                                       testAccuracy: test?.accuracy, testLoss: test?.loss,
                                       learningRate: Double(c.learningRate * schedule.factor(atIteration: trainer.iteration)),
                                       seconds: Date().timeIntervalSince(epochStart),
                                       imagesPerSecond: Double(seen) / trainSeconds,
                                       validationAccuracy: probed?.accuracy, validationRobustAccuracy: probed?.robustAccuracy,
                                       networkWaitMsPerStep: network.wait, allreduceMsPerStep: network.busy)))
        }

        let network = perStep(steps: runSteps, since: runStart)
        let summary = TrainingSummary(model: c.model, dataset: c.dataset, classes: task.classCount, trainExamples: task.train.count,
                                      testAccuracy: last?.accuracy ?? 0, testLoss: last?.loss ?? 0,
                                      meanTrueConfidence: last?.meanTrueConfidence ?? 0,
                                      seconds: Date().timeIntervalSince(start), checkpoint: checkpointPath,
                                      steps: runSteps, imagesPerSecond: runSeconds > 0 ? Double(runImages) / runSeconds : nil,
                                      networkWaitMsPerStep: network.wait, allreduceMsPerStep: network.busy)
        if let checkpointPath {
            try Checkpoint.save(model, to: checkpointPath, extraMetadata: checkpointMetadata(summary))
        }
        return (model, summary)
    }

    /// Copies of the model's buffers averaged over the replicas (every replica must call this at
    /// the same step); empty for one process, whose buffers need no averaging.
    private func averagedBufferCopies(_ model: ImageClassifier) throws -> [String: Tensor] {
        guard reducer.worldSize > 1 else { return [:] }
        let copies = try model.namedBuffers.map { ($0.0, try Tensor(shape: $0.1.shape, values: $0.1.values)) }
        try reducer.averageBuffers(copies)
        return Dictionary(uniqueKeysWithValues: copies)
    }

    /// What the trained checkpoint records besides the model's description: the task, the seed,
    /// the result, and the checkpoint it started from (`init`: `InitialCheckpoint.lineage`).
    public func checkpointMetadata(_ summary: TrainingSummary) -> [String: String] {
        let c = configuration
        var metadata = ["dataset": c.dataset, "seed": String(c.seed), "epochs": String(c.epochs),
                        "test_accuracy": String(summary.testAccuracy)]
        if let classes = c.classes { metadata["classes"] = classes }
        if let origin = initialCheckpoint?.lineage ?? c.initCheckpoint { metadata["init"] = origin }
        return metadata
    }
}

/// A run that stopped on request (`TrainingRun.stopRequested`) after `step` steps.
public struct TrainingStopped: Error, CustomStringConvertible {
    public var step: Int
    public var snapshotTaken: Bool
    public var description: String {
        "stopped after step \(step)" + (snapshotTaken ? "; a snapshot was stored to go on from" : "; no snapshot (the next attempt starts over)")
    }
}
