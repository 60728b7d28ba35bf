import TensorEngine

/// What a model is, as stored in a checkpoint's metadata: enough to rebuild it.
public struct ModelDescription: Equatable, Sendable, Codable {
    public var name: String
    public var numClasses: Int
    /// (C, H, W) of the inputs.
    public var inputShape: [Int]
    /// Per-channel statistics of the Normalize layer.
    public var mean: [Float]
    public var std: [Float]

    public init(name: String, numClasses: Int, inputShape: [Int], mean: [Float], std: [Float]) {
        (self.name, self.numClasses, self.inputShape, self.mean, self.std) = (name, numClasses, inputShape, mean, std)
    }
}

/// A model's outputs. Features and stage activations are kept only when asked for.
public struct ModelOutput {
    public var logits: Tensor
    /// The penultimate representation (input of the classifier), (N, D).
    public var features: Tensor?
    /// Activation after each stage (`conv1`, `layer1`, ...), for representation analysis.
    public var stages: [(String, Tensor)]
}

/// What a caller wants besides the logits.
public struct Capture: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let features = Capture(rawValue: 1)
    public static let stages = Capture(rawValue: 2)
}

/// An image classifier: Normalize first, logits out; optionally penultimate features and stages.
open class ImageClassifier: Module {
    public let modelDescription: ModelDescription
    public let normalize: Normalize

    public init(description: ModelDescription) throws {
        try require(description.inputShape.count == 3, "input shape must be (C, H, W), got \(description.inputShape)")
        try require(description.mean.count == description.inputShape[0],
                    "Normalize has \(description.mean.count) channels, input has \(description.inputShape[0])")
        try require(description.numClasses >= 1, "a classifier needs at least one class")
        modelDescription = description
        normalize = try Normalize(mean: description.mean, std: description.std)
    }

    /// The name prefix of the classifier head, which fine-tuning re-initializes.
    open var headName: String { "fc" }

    /// Runs the model; subclasses implement `run`.
    public func callAsFunction(_ x: Tensor, capture: Capture) throws -> ModelOutput {
        try require(Array(x.shape.dropFirst()) == modelDescription.inputShape,
                    "\(modelDescription.name) expects inputs (N, \(modelDescription.inputShape.map(String.init).joined(separator: ", "))), got \(x.shape)")
        return try run(normalize(x), capture: capture)
    }

    open func run(_ x: Tensor, capture: Capture) throws -> ModelOutput { fatalError("\(type(of: self)) must override run") }

    public override func forward(_ x: Tensor) throws -> Tensor { try self(x, capture: []).logits }
}
