import Cluster
import Datasets
import Foundation
import NeuralNetworks
import Robustness
import Study
import StudyMetrics
import TensorEngine

/// Job types that measure checkpoints other trials made, without training (docs/STUDY.md):
///
/// - `cka`: `from: [a, b, c]` — linear CKA and SVCCA per stage between the first parent's model and each
///   other parent's, on a seeded subset of the target test split (fine-tuned vs standard vs
///   pre-trained: where do the representations part?).
/// - `evaluate`: `from: a` — a new attack suite on the parent's checkpoint, on the task stored in
///   its metadata. `rt evaluate RUN_DIR` appends these, so a stronger attack needs no retraining;
///   reports fold the results into the evaluated trial's row.
public enum StudyAnalysisJob: String, CaseIterable, Sendable {
    case cka
    case evaluate

    public static func register(into registry: inout JobRegistry) {
        for job in allCases {
            registry.register(job.rawValue, ClosureJobHandler { context in
                try job.run(parameters: context.parameters, parents: context.parentArtifacts, progress: context.progress)
            })
        }
    }

    /// Checks parameters before anything runs (the preset tests call this too).
    public func validate(_ parameters: [String: JSONValue]) throws {
        _ = try Settings(self, parameters)
    }

    public func run(parameters: [String: JSONValue], parents: [ParentArtifact],
                    progress: (Double, String) -> Void = { _, _ in }) throws -> JobOutcome {
        let settings = try Settings(self, parameters)
        Parallel.threads = settings.threads
        let minimum = self == .cka ? 2 : 1
        guard parents.count >= minimum else {
            throw JobError(self == .cka ? "cka compares models: give it from: [a, b, ...] (two stages or more)" : "evaluate measures a checkpoint: give it from: <stage>")
        }
        if self == .evaluate && parents.count > 1 { throw JobError("evaluate measures one checkpoint; from: names \(parents.count) stages") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-analysis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let models = try parents.enumerated().map { index, parent -> (model: ImageClassifier, metadata: [String: String]) in
            let path = directory.appendingPathComponent("parent-\(index).safetensors").path
            try parent.bytes.write(to: URL(fileURLWithPath: path))
            return try Checkpoint.load(path)
        }
        switch self {
        case .cka: return try cka(settings, parents, models, progress)
        case .evaluate: return try evaluate(settings, parents[0], models[0], progress)
        }
    }

    private func cka(_ s: Settings, _ parents: [ParentArtifact], _ models: [(model: ImageClassifier, metadata: [String: String])],
                     _ progress: (Double, String) -> Void) throws -> JobOutcome {
        guard let task = s.task else { throw JobError("parameter target: missing: the data the representations are compared on") }
        let first = models[0].model
        let data = StudyTrial.seededSubset(
            of: try EvaluationData.load(dataset: task.dataset, classes: task.classes, split: .test, limit: nil,
                                        imageShape: first.modelDescription.inputShape, dataDirectory: s.dataDirectory),
            count: s.examples, seed: s.seed)
        var metrics = StudyTrialMetrics(role: StudyTrialMetrics.analysisRole, task: task.label, model: first.modelDescription.name)
        (metrics.compared, metrics.examples) = (parents[0].stage, data.count)
        for (index, other) in models.enumerated().dropFirst() {
            progress(Double(index - 1) / Double(models.count - 1), "CKA and SVCCA \(parents[0].stage) vs \(parents[index].stage)")
            for stage in try RepresentationSimilarity.compare(first, other.model, on: data) {
                metrics.cka.append(CKAValue(reference: parents[index].stage, layer: stage.stage, value: stage.cka ?? .nan, svcca: stage.svcca?.value))
            }
        }
        return JobOutcome(metrics: try metrics.jobMetrics())
    }

    private func evaluate(_ s: Settings, _ parent: ParentArtifact, _ loaded: (model: ImageClassifier, metadata: [String: String]),
                          _ progress: (Double, String) -> Void) throws -> JobOutcome {
        guard let dataset = loaded.metadata["dataset"] else {
            throw JobError("the checkpoint of \(parent.trialID) does not say which dataset it was trained on (no dataset in its metadata)")
        }
        let classes = loaded.metadata["classes"]
        let model = loaded.model
        let test = try EvaluationData.load(dataset: dataset, classes: classes, split: .test, limit: nil, for: model, dataDirectory: s.dataDirectory)
        progress(0, "clean accuracy")
        let clean = try Evaluation.evaluate(model, on: test)
        let attacked = StudyTrial.seededSubset(of: test, count: s.examples, seed: s.seed)
        let task = StudyTaskSpec(dataset: dataset, classes: classes)
        var metrics = StudyTrialMetrics(role: "evaluate", task: task.label, model: model.modelDescription.name)
        metrics.evaluates = parent.stage
        (metrics.cleanAccuracy, metrics.cleanExamples) = (clean.accuracy, test.count)
        (metrics.meanTrueConfidence, metrics.attackedExamples) = (clean.meanTrueConfidence, attacked.count)
        var masks: [String: Data] = [:]
        // A corruption the images cannot take fails before the attacks run.
        if let suite = s.corruptions {
            do { _ = try suite.specs(channels: attacked.channels) } catch { throw JobError("parameter attacks: \(error)") }
        }
        if !s.attacks.isEmpty {
            progress(0.1, "attacking \(attacked.count) examples")
            let report = try RobustnessEvaluator(batchSize: s.batchSize).evaluate(model, on: attacked, attacks: s.attacks.map(\.spec))
            masks["clean"] = StudyTrial.mask(report.cleanCorrect)
            metrics.attacks = zip(s.attacks, report.results).map { attack, result in
                masks[attack.key] = StudyTrial.mask(result.correct)
                return AttackMetrics(attack, result, name: attack.spec.kind.rawValue)
            }
            (metrics.attackedCleanAccuracy, metrics.worstCaseAccuracy) = (report.cleanAccuracy, report.worstCaseAccuracy)
            metrics.warnings = report.warnings
        }
        if let suite = s.corruptions {
            progress(0.8, "corrupting \(attacked.count) examples")
            let measured = try StudyCorruptionSuite.measure(suite, model, on: attacked, batchSize: s.batchSize)
            metrics.corruptions = measured.metrics
            masks.merge(measured.masks) { first, _ in first }
        }
        return JobOutcome(metrics: try metrics.jobMetrics(), masks: masks)
    }

    /// The parameters both analyses read.
    struct Settings {
        var task: StudyTaskSpec?
        var attacks: [LabeledAttack]
        var corruptions: CorruptionSuite?
        var examples: Int?
        var seed: UInt64
        var batchSize: Int
        var threads: Int
        var dataDirectory: String?

        init(_ job: StudyAnalysisJob, _ parameters: [String: JSONValue]) throws {
            var reader = StudyParameterReader(parameters)
            task = try reader.object("target").map(StudyTaskSpec.init)
            seed = UInt64(try reader.int("attack_seed", atLeast: 0) ?? 0)
            let suite = try reader.array("attacks") ?? []
            attacks = try StudyAttackSuite.parse(suite, seed: seed)
            corruptions = try StudyCorruptionSuite.parse(suite, seed: seed)
            examples = try reader.int(job == .cka ? "cka_examples" : "attack_examples", atLeast: job == .cka ? 4 : 1)
            batchSize = try reader.int("attack_batch_size", atLeast: 1) ?? 128
            threads = try reader.int("threads", atLeast: 1) ?? 1
            dataDirectory = try reader.string("data_dir")
            if job == .cka && (!attacks.isEmpty || corruptions != nil) { throw JobError("parameter attacks: cka does not attack; use an evaluate stage") }
            if job == .evaluate && attacks.isEmpty && corruptions == nil { throw JobError("parameter attacks: missing: evaluate runs an attack suite") }
            if job == .evaluate && task != nil { throw JobError("parameter target: evaluate reads the task from the checkpoint's metadata") }
            // A shared anchor may carry training keys these jobs do not use; they are not mistakes here.
            for key in Self.trainingKeys { _ = reader.raw(key) }
            try reader.rejectUnknownKeys()
        }

        static let trainingKeys = ["source", "model", "epochs", "batch_size", "lr", "optimizer", "momentum", "weight_decay",
                                   "schedule", "crop_padding", "flip", "tasks"]
    }
}
