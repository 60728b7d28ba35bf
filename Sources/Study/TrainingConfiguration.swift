import NeuralNetworks
import Robustness

/// Everything that defines one training run (`rt train`, and one trial of a sweep).
public struct TrainingConfiguration: Sendable, Codable, Equatable {
    public enum OptimizerKind: String, Sendable, Codable, CaseIterable { case sgd, adam, adamw }
    public enum ScheduleKind: String, Sendable, Codable, CaseIterable { case constant, step, cosine }

    public var model: String
    public var dataset: String
    /// Class spec of the task (`0-4`, `5-9`, `0,2,7`); nil keeps every class.
    public var classes: String?
    /// Training examples per class, chosen by seed; nil keeps all.
    public var perClass: Int?
    public var epochs = 10
    public var batchSize = 128
    public var optimizer = OptimizerKind.sgd
    public var learningRate: Float = 0.05
    public var momentum: Float = 0.9
    public var weightDecay: Float = 5e-4
    public var schedule = ScheduleKind.cosine
    public var seed: UInt64 = 0
    /// A checkpoint trained on another task: its backbone is kept, its classifier re-initialised.
    public var initCheckpoint: String?
    /// Freeze every parameter before this name in model order (the re-trained-layers factor).
    public var retrainFrom: String?
    /// Train the classifier only (a linear probe of the backbone). Optional so configurations
    /// stored before it existed still decode.
    public var linearProbe: Bool?
    /// The backbone's own learning rate (the head keeps `learningRate`).
    public var backboneLearningRate: Float?
    public var threads = 2
    /// Random crop padding and horizontal flip of the training batches.
    public var cropPadding = 0
    public var horizontalFlip = false
    /// Where datasets are looked for besides the defaults ($RT_DATA_DIR).
    public var dataDirectory: String?
    /// The training loss: a robust objective (pgd-at, trades, dm; docs/ROBUSTNESS.md); nil is cross-entropy.
    /// Optional so configurations stored before it existed still decode.
    public var objective: ObjectiveSettings?
    /// Training-split examples per class held out for the learning curve's validation
    /// accuracy (`DatasetTask.validation`); nil: none held out.
    public var validationPerClass: Int?
    /// Batch-norm statistics over this many slices of each batch, as that many data-parallel
    /// replicas compute them (`BatchNorm2d+Slices`): one process reproduces a `--replicas k` run
    /// of a model with batch-norm. nil or 1: over the whole batch.
    public var batchNormSlices: Int?

    public init(model: String, dataset: String) {
        self.model = model
        self.dataset = dataset
    }

    /// Problems that must stop the run before any work starts.
    public func validate() throws {
        func fail(_ reason: String) -> StudyError { .invalidConfiguration(reason) }
        guard ModelZoo.names.contains(model) else { throw fail("unknown model '\(model)'; known: \(ModelZoo.names.joined(separator: ", "))") }
        guard epochs >= 1 else { throw fail("--epochs must be at least 1, got \(epochs)") }
        guard batchSize >= 1 else { throw fail("--batch-size must be at least 1, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw fail("--lr must be positive, got \(learningRate)") }
        if let b = backboneLearningRate, !(b >= 0 && b.isFinite) { throw fail("--backbone-lr must be >= 0, got \(b)") }
        guard momentum >= 0, momentum < 1 else { throw fail("--momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0 else { throw fail("--weight-decay must be >= 0, got \(weightDecay)") }
        if linearProbe == true && retrainFrom != nil { throw fail("a linear probe trains the head only; it cannot take --retrain-from too") }
        if let k = perClass, k < 1 { throw fail("--per-class must be at least 1, got \(k)") }
        if let k = validationPerClass, k < 1 { throw fail("validation examples per class must be at least 1, got \(k)") }
        if let k = batchNormSlices, k < 1 || k > batchSize {
            throw fail("--bn-slices must be in 1...\(batchSize) (the batch size), got \(k)")
        }
        guard threads >= 1 else { throw fail("--threads must be at least 1, got \(threads)") }
        do { try objective?.validate() } catch { throw fail("\(error)") }
    }
}

public enum StudyError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case incompatibleCheckpoint(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(reason): return "invalid configuration: \(reason)"
        case let .incompatibleCheckpoint(path, reason): return "checkpoint \(path): \(reason)"
        }
    }
}
