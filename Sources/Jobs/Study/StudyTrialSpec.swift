import Cluster
import Foundation
import Robustness
import Study

/// A study trial as its parameters describe it: what to train, then what to measure.
/// Every key is documented in docs/STUDY.md; an unknown key is an error.
public struct StudyTrialSpec: Sendable {
    public var role: StudyRole
    /// The task this role trains and is measured on (source or target).
    public var task: StudyTaskSpec
    /// Training, without the parent checkpoint (the job supplies its path).
    public var training: TrainingConfiguration
    public var attacks: [LabeledAttack]
    /// The `{attack: corruption, ...}` entry of `attacks:`, measured on the same subset.
    public var corruptions: CorruptionSuite?
    /// Attack a seeded subset of the test split of this size (clean accuracy is on all of it).
    public var attackExamples: Int?
    /// The subset and the attacks' random starts follow this seed, not the trial's, so every
    /// role and seed is attacked on the same examples and masks line up.
    public var attackSeed: UInt64
    public var attackBatchSize: Int
    /// Linear CKA against the parent model, per stage, on this many test examples (nil: off).
    public var ckaExamples: Int?
    /// Adversarial examples crafted on the parent (pre-trained) model's features, evaluated on this one.
    public var transferFromParent: Bool
    /// Radii of the low- and high-pass accuracy curves (nil: no frequency analysis).
    public var frequencyRadii: [Double]?
    /// The learning curve's validation points (`eval_every`); nil: training loss and accuracy only.
    public var curve: LearningCurveSpec?

    public init(role: StudyRole, parameters: [String: JSONValue], seed: Int) throws {
        self.role = role
        var reader = StudyParameterReader(parameters)
        // Both tasks are read (shared parameters name both); the role picks one. `tasks: {source:,
        // target:}` names the pair as one value, so a grid axis can vary datasets.
        var sourceTask = try reader.object("source").map(StudyTaskSpec.init)
        var targetTask = try reader.object("target").map(StudyTaskSpec.init)
        if var pair = try reader.object("tasks") {
            guard sourceTask == nil && targetTask == nil else { throw reader.fail("tasks", "give either tasks or source and target, not both") }
            sourceTask = try pair.object("source").map(StudyTaskSpec.init)
            targetTask = try pair.object("target").map(StudyTaskSpec.init)
            try pair.rejectUnknownKeys()
        }
        guard let task = role.trainsOnSource ? sourceTask : targetTask else {
            let key = role.trainsOnSource ? "source" : "target"
            throw reader.fail(key, "missing: \(role.rawValue) trains on the \(key) task, e.g. {dataset: fashion-mnist, classes: \(role.trainsOnSource ? "0-4" : "5-9")}")
        }
        self.task = task

        var c = TrainingConfiguration(model: try reader.string("model") ?? "small-cnn", dataset: task.dataset)
        c.classes = task.classes
        c.perClass = task.perClass
        c.seed = UInt64(truncatingIfNeeded: seed)
        c.epochs = try reader.int("epochs", atLeast: 1) ?? task.epochs ?? c.epochs
        c.batchSize = try reader.int("batch_size", atLeast: 1) ?? c.batchSize
        if let name = try reader.string("optimizer") {
            guard let kind = TrainingConfiguration.OptimizerKind(rawValue: name) else { throw reader.fail("optimizer", "must be sgd, adam or adamw, got '\(name)'") }
            c.optimizer = kind
        }
        if let name = try reader.string("schedule") {
            guard let kind = TrainingConfiguration.ScheduleKind(rawValue: name) else { throw reader.fail("schedule", "must be constant, step or cosine, got '\(name)'") }
            c.schedule = kind
        }
        let lr = try reader.float("lr") ?? c.learningRate
        let headLR = try reader.float("head_lr"), backboneLR = try reader.float("backbone_lr")
        // With either rate given, the backbone and the head are two parameter groups.
        c.learningRate = headLR ?? lr
        if headLR != nil || backboneLR != nil { c.backboneLearningRate = backboneLR ?? lr }
        c.momentum = try reader.float("momentum") ?? c.momentum
        c.weightDecay = try reader.float("weight_decay") ?? c.weightDecay
        c.threads = try reader.int("threads", atLeast: 1) ?? 1
        c.cropPadding = try reader.int("crop_padding", atLeast: 0) ?? 0
        c.horizontalFlip = try reader.bool("flip") ?? false
        c.dataDirectory = try reader.string("data_dir")
        c.retrainFrom = try reader.string("retrain_from")
        c.linearProbe = try reader.bool("linear_probe")

        // The robust objectives' settings; the role decides whether they apply.
        let beta = try reader.float("beta"), trainEps = try reader.float("train_eps")
        let trainSteps = try reader.int("train_steps", atLeast: 1), trainStepSize = try reader.float("train_step_size")
        if role.objective != .crossEntropy {
            c.objective = ObjectiveSettings(kind: role.objective, beta: role.objective == .pgdAT ? nil : beta,
                                            eps: trainEps, steps: trainSteps, stepSize: trainStepSize)
        }
        if !role.needsParent && (c.retrainFrom != nil || c.linearProbe == true || headLR != nil || backboneLR != nil) {
            throw JobError("parameters retrain_from, linear_probe, head_lr and backbone_lr need a pre-trained start; \(role.rawValue) trains from scratch")
        }
        attackSeed = UInt64(try reader.int("attack_seed", atLeast: 0) ?? 0)
        curve = try LearningCurveSpec.parse(&reader, seed: attackSeed)
        c.validationPerClass = curve?.examplesPerClass
        do { try c.validate() } catch { throw JobError("\(error)") }
        training = c

        let suite = try reader.array("attacks") ?? []
        attacks = try StudyAttackSuite.parse(suite, seed: attackSeed)
        corruptions = try StudyCorruptionSuite.parse(suite, seed: attackSeed)
        attackExamples = try reader.int("attack_examples", atLeast: 1)
        attackBatchSize = try reader.int("attack_batch_size", atLeast: 1) ?? 128
        ckaExamples = try reader.int("cka_examples", atLeast: 4)
        transferFromParent = try reader.bool("transfer_from_parent") ?? false
        frequencyRadii = try reader.array("frequency_radii")?.map { value in
            guard let r = value.doubleValue, r > 0 else { throw reader.fail("frequency_radii", "must be positive numbers, got \(value)") }
            return r
        }
        if !role.needsParent && (ckaExamples != nil || transferFromParent) {
            throw JobError("parameters cka_examples and transfer_from_parent compare with the parent model; \(role.rawValue) has none")
        }
        // Checked here, before hours of training, not when the finished trial reports.
        guard maskCount <= Self.maxMasks else {
            throw reader.fail("attacks", "\(maskCount) per-example masks (clean, one per attack and eps\(transferFromParent ? ", one per transfer attack" : "")"
                + "\(corruptions == nil ? "" : ", one for the corruptions")), but a trial's result carries at most \(Self.maxMasks): list fewer attacks or budgets")
        }
        try reader.rejectUnknownKeys()
    }

    /// What one result message can carry besides its JSON body (docs/PROTOCOL.md).
    public static let maxMasks = WireEnvelope.maxPayloadFrames - 1

    /// The masks `StudyTrial` returns: `clean` and one per attack when it attacks, one per attack
    /// crafted on the parent, and one for all corruption results.
    public var maskCount: Int {
        let transferred = transferFromParent ? attacks.filter { !$0.spec.kind.isParameterFree }.count : 0
        return (attacks.isEmpty ? 0 : 1 + attacks.count + transferred) + (corruptions == nil ? 0 : 1)
    }
}
