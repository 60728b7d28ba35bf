import Cluster
import Datasets
import Foundation
import NeuralNetworks
import Robustness
import Study
import StudyMetrics
import TensorEngine

/// Runs one study trial end to end on a worker: train the role (from the parent's checkpoint
/// when it has one), then measure it — clean accuracy on the whole test split, the attack
/// suite on a seeded subset, and the analyses the sweep asks for — and hand back the metrics,
/// the per-example masks and the checkpoint (docs/STUDY.md).
public struct StudyTrial {
    public let spec: StudyTrialSpec

    public init(spec: StudyTrialSpec) { self.spec = spec }

    /// Training is about this share of a trial's progress bar; the measurements the rest.
    private static let trainingShare = 0.7

    /// How the role trains when it is one replica of a data-parallel trial; `measures` is false
    /// for every replica but rank 0, which alone measures the model and reports.
    public struct Trainer {
        public let replicas: Int
        public let measures: Bool
        public let train: (TrainingRun, (TrainingEvent) throws -> Void) throws -> (model: ImageClassifier, summary: TrainingSummary)

        public init(replicas: Int, measures: Bool,
                    train: @escaping (TrainingRun, (TrainingEvent) throws -> Void) throws -> (model: ImageClassifier, summary: TrainingSummary)) {
            (self.replicas, self.measures, self.train) = (replicas, measures, train)
        }
    }

    /// How a trial that runs alone (not data-parallel) survives a stop: `save` stores a snapshot
    /// (the training state after `step` steps) when the worker is told to stop, and `resume` is
    /// the one an earlier attempt stored.
    public struct Snapshots {
        public var resume: (bytes: Data, step: Int)?
        public var save: (Data, Int) -> Void

        public init(resume: (bytes: Data, step: Int)?, save: @escaping (Data, Int) -> Void) {
            (self.resume, self.save) = (resume, save)
        }
    }

    public func run(parentCheckpoint: Data?, cancellation: CancellationFlag? = nil,
                    progress: (Double, String) -> Void = { _, _ in }, trainer: Trainer? = nil,
                    snapshots: Snapshots? = nil) throws -> JobOutcome {
        let role = spec.role
        if role.needsParent && parentCheckpoint == nil {
            throw JobError("\(role.rawValue) starts from a pre-trained checkpoint: give its stage `from: <pretrain stage>`")
        }
        if !role.needsParent && parentCheckpoint != nil {
            throw JobError("\(role.rawValue) trains from scratch: remove `from:` from its stage")
        }
        // The parent is decoded once, here; training, the checks and the measurements share it.
        let parent = try parentCheckpoint.map {
            try InitialCheckpoint.decode($0, name: "the parent's checkpoint", sha256: SHA256.hex($0))
        }
        let configuration = spec.training
        try StudyCorruptionSuite.checkBeforeTraining(spec.corruptions, task: spec.task, parentChannels: parent?.description.inputShape[0],
                                                     dataDirectory: configuration.dataDirectory)

        // Train.
        var run = TrainingRun(configuration)
        run.initialCheckpoint = parent
        run.evaluateEveryEpoch = false
        if let snapshots, trainer == nil {
            run.resume = snapshots.resume.map { (checkpoint: $0.bytes, step: $0.step) }
            run.onCheckpoint = { bytes, step in snapshots.save(bytes, step) }
            run.stopRequested = { cancellation?.stopRequested == true }
        }
        if let curve = spec.curve {
            run.probeEvery = curve.every
            let evaluator = RobustnessEvaluator(batchSize: spec.attackBatchSize)
            run.probe = { model, validation in
                let clean = try Evaluation.evaluate(model, on: validation)
                guard let attack = curve.attack else { return (clean.accuracy, nil) }
                let subset = Self.seededSubset(of: validation, count: curve.attackExamples, seed: curve.seed)
                return (clean.accuracy, try evaluator.evaluate(model, on: subset, attacks: [attack.spec]).results[0].robustAccuracy)
            }
        }
        let trainingStart = Date()
        var epochs: [EpochSummary] = []
        func report(_ event: TrainingEvent) throws {
            if cancellation?.isCancelled == true { throw JobError("\(role.rawValue): cancelled by the coordinator") }
            switch event {
            case let .step(p):
                let done = Double((p.epoch - 1) * p.stepsPerEpoch + p.step) / Double(p.epochs * p.stepsPerEpoch)
                let latest = epochs.last.map { "; " + LearningCurve.note($0) } ?? ""
                progress(Self.trainingShare * done, String(format: "epoch %d/%d, loss %.3f", p.epoch, p.epochs, p.loss) + latest)
            case let .epoch(summary):
                epochs.append(summary)
            }
        }
        let (model, summary) = try trainer.map { try $0.train(run, report) } ?? run.run(saveTo: nil, report: report)
        let trainSeconds = Date().timeIntervalSince(trainingStart)
        // The other replicas of a data-parallel trial only trained; rank 0 measures and reports.
        if let trainer, !trainer.measures { return JobOutcome(metrics: [:]) }

        // Measure.
        let evaluationStart = Date()
        let test = try EvaluationData.load(dataset: spec.task.dataset, classes: spec.task.classes, split: .test, limit: nil,
                                           for: model, dataDirectory: configuration.dataDirectory)
        let attacked = Self.seededSubset(of: test, count: spec.attackExamples, seed: spec.attackSeed)
        var metrics = StudyTrialMetrics(role: role.rawValue, task: spec.task.label, model: configuration.model)
        metrics.dataset = spec.task.dataset
        metrics.classes = spec.task.classes
        (metrics.trainExamples, metrics.epochs) = (summary.trainExamples, configuration.epochs)
        (metrics.cleanAccuracy, metrics.cleanExamples) = (summary.testAccuracy, test.count)
        (metrics.meanTrueConfidence, metrics.attackedExamples) = (summary.meanTrueConfidence, attacked.count)
        (metrics.replicas, metrics.resumedFromStep) = (trainer?.replicas ?? 1, run.resume?.step ?? 0)
        var masks: [String: Data] = [:]

        // The parent as a whole model, only for what measures against it.
        let parentModel = spec.ckaExamples != nil || spec.transferFromParent ? try parent?.model() : nil
        let evaluator = RobustnessEvaluator(batchSize: spec.attackBatchSize)
        if !spec.attacks.isEmpty {
            progress(Self.trainingShare, "attacking \(attacked.count) examples")
            let report = try evaluator.evaluate(model, on: attacked, attacks: spec.attacks.map(\.spec))
            (metrics.attackedCleanAccuracy, metrics.worstCaseAccuracy) = (report.cleanAccuracy, report.worstCaseAccuracy)
            masks["clean"] = Self.mask(report.cleanCorrect)
            metrics.attacks = zip(spec.attacks, report.results).map { attack, result in
                masks[attack.key] = Self.mask(result.correct)
                return AttackMetrics(attack, result, name: attack.spec.kind.rawValue)
            }
            // AutoAttack's attacks attack the model itself; the others are also crafted on the parent.
            let transferable = spec.attacks.filter { !$0.spec.kind.isParameterFree }
            if spec.transferFromParent, let parentModel, !transferable.isEmpty {
                progress(Self.trainingShare + 0.5 * (1 - Self.trainingShare), "transfer attacks from the parent's features")
                let transfer = try evaluator.evaluate(model, on: attacked, attacks: transferable.map(\.spec),
                                                      craftingModel: parentModel, craftingSpace: .features)
                for (attack, result) in zip(transferable, transfer.results) {
                    let name = "\(attack.spec.kind.rawValue)-transfer"
                    masks["\(name)-\(attack.spec.norm.rawValue)-\(attack.epsLabel)"] = Self.mask(result.correct)
                    metrics.attacks.append(AttackMetrics(attack, result, name: name))
                }
            }
            metrics.warnings = report.warnings
        }
        if let suite = spec.corruptions {
            progress(Self.trainingShare + 0.8 * (1 - Self.trainingShare), "corrupting \(attacked.count) examples")
            let measured = try StudyCorruptionSuite.measure(suite, model, on: attacked, batchSize: spec.attackBatchSize)
            metrics.corruptions = measured.metrics
            masks.merge(measured.masks) { first, _ in first }
        }
        if let count = spec.ckaExamples, let parentModel {
            progress(0.95, "CKA and SVCCA against the parent")
            let similarity = try RepresentationSimilarity.compare(model, parentModel, on: Self.seededSubset(of: test, count: count, seed: spec.attackSeed))
            metrics.cka = similarity.map { CKAValue(reference: "parent", layer: $0.stage, value: $0.cka ?? .nan, svcca: $0.svcca?.value) }
        }
        if let radii = spec.frequencyRadii {
            progress(0.97, "frequency analysis")
            let frequency = try FrequencyAnalysis.run(model, on: attacked, radii: radii, batchSize: spec.attackBatchSize)
            metrics.frequency = FrequencyMetrics(lowPass: frequency.lowPass.map { .init(radius: $0.radius, accuracy: $0.accuracy) },
                                                 highPass: frequency.highPass.map { .init(radius: $0.radius, accuracy: $0.accuracy) })
        }
        // Rank 0's epochs: the whole curve, also after a resumed attempt (which starts at its snapshot's epoch).
        metrics.learningCurve = epochs.map(LearningCurvePoint.init)
        metrics.trainSeconds = trainSeconds
        metrics.evalSeconds = Date().timeIntervalSince(evaluationStart)
        let checkpoint = try Checkpoint.encode(model, extraMetadata: run.checkpointMetadata(summary))
        return JobOutcome(metrics: try metrics.jobMetrics(), masks: masks, artifact: (name: "\(role.rawValue).safetensors", bytes: checkpoint))
    }

    /// `count` examples chosen by `seed`, kept in test-set order (all of them when count is nil or too large).
    static func seededSubset(of data: ImageDataset, count: Int?, seed: UInt64) -> ImageDataset {
        guard let count, count < data.count else { return data }
        var generator = RandomGenerator(seed: seed, stream: "attack-subset")
        let chosen = ImageDataset.shuffled(Array(0..<data.count), generator: &generator).prefix(count).sorted()
        return data.gathering(chosen, name: "\(data.name)[\(count) seeded by \(seed)]")
    }

    static func mask(_ correct: [Bool]) -> Data { Data(correct.map { $0 ? 1 : 0 }) }
}
