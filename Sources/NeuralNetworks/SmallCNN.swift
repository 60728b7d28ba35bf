import TensorEngine

/// conv1 (C→32, 3×3, pad 1) ReLU maxpool 2 → conv2 (32→64) ReLU maxpool 2 → flatten →
/// fc1 (64·H/4·W/4 → 128) ReLU → fc2 (128 → classes).
public final class SmallCNN: ImageClassifier {
    public let conv1: Conv2d, conv2: Conv2d, fc1: Linear, fc2: Linear

    public init(description: ModelDescription, generator: inout RandomGenerator) throws {
        let (c, h, w) = (description.inputShape[0], description.inputShape[1], description.inputShape[2])
        try require(h >= 4 && w >= 4, "small-cnn needs images of at least 4×4, got \(h)×\(w)")
        conv1 = Conv2d(c, 32, kernel: 3, padding: 1, generator: &generator)
        conv2 = Conv2d(32, 64, kernel: 3, padding: 1, generator: &generator)
        fc1 = Linear(64 * (h / 4) * (w / 4), 128, generator: &generator)
        fc2 = Linear(128, description.numClasses, generator: &generator)
        try super.init(description: description)
    }

    public override var headName: String { "fc2" }
    public override var children: [(String, Module)] { [("conv1", conv1), ("conv2", conv2), ("fc1", fc1), ("fc2", fc2)] }

    public override func run(_ x: Tensor, capture: Capture) throws -> ModelOutput {
        // ReLU and max commute (both monotone, and the gradient reaches the same input), so
        // pooling first gives the same values and gradients with a quarter of the ReLU work.
        let a1 = try conv1(x).maxPool2d(kernel: 2).relu()
        let a2 = try conv2(a1).maxPool2d(kernel: 2).relu()
        let features = try fc1(a2.flattened()).relu()
        let logits = try fc2(features)
        let stages = capture.contains(.stages) ? [("conv1", a1), ("conv2", a2), ("fc1", features)] : []
        return ModelOutput(logits: logits, features: capture.contains(.features) ? features : nil, stages: stages)
    }
}
