import TensorEngine

/// Input diversity (Xie et al. 2019, "Improving transferability of adversarial examples with input
/// diversity"): before each gradient of an iterative attack, with probability p, the batch is
/// shrunk to a random size and zero-padded back to its own size at a random place; the model sees
/// that image and the gradient flows back through the pad and the resize. Crafted this way, a
/// perturbation fits the source model less and transfers better.
///
/// As torchattacks' `DIFGSM` (resize_rate 0.9, diversity_prob 0.5): the side s is drawn uniformly
/// from [⌊r·H⌋, H), resized bilinearly (half-pixel centres), and placed at top, left drawn uniformly
/// from [0, H − s) (so at least one row and column of zeros stay at the bottom and right, as in
/// both reference implementations). One draw per batch and step, as they do. Xie et al.'s own
/// code enlarges instead (299 → [299, 330), nearest neighbour, padded to 330) and feeds the larger
/// image to Inception, which takes any size; rt's models take one input size, so the image shrinks.
public struct InputDiversity: Sendable, Equatable {
    /// p: the probability that a step's gradient is taken at the transformed batch.
    public var probability: Float
    /// r in (0, 1): the smallest side drawn is ⌊r·H⌋.
    public var resizeRate: Float

    public static let defaultProbability: Float = 0.5
    public static let defaultResizeRate: Float = 0.9

    public init(probability: Float = defaultProbability, resizeRate: Float = defaultResizeRate) {
        (self.probability, self.resizeRate) = (probability, resizeRate)
    }

    /// Where one step puts the shrunk image.
    public struct Placement: Sendable, Equatable {
        public var size: Int
        public var top: Int
        public var left: Int
    }

    public func validate() throws {
        guard probability.isFinite, probability >= 0, probability <= 1 else {
            throw RobustnessError.invalidSetting(name: "diversity-prob", reason: "must be in [0, 1], got \(probability)")
        }
        guard resizeRate.isFinite, resizeRate > 0, resizeRate < 1 else {
            throw RobustnessError.invalidSetting(name: "resize-rate", reason: "must be in (0, 1) (the image shrinks to a side in [rate·H, H) and is padded back), got \(resizeRate)")
        }
    }

    /// The images must be square (one side is drawn, as in the references) and ⌊r·H⌋ at least 1.
    public func validate(imageShape shape: [Int]) throws {
        try validate()
        guard shape.count == 3, shape[1] == shape[2] else {
            throw RobustnessError.incompatible("input diversity resizes square images; the images are \(shape)")
        }
        guard smallestSide(shape[1]) >= 1 else {
            throw RobustnessError.invalidSetting(name: "resize-rate", reason: "\(resizeRate) × \(shape[1]) pixels leaves no image; raise it")
        }
    }

    /// ⌊r·H⌋ (torchattacks' int(H·r)).
    public func smallestSide(_ side: Int) -> Int { Int(Float(side) * resizeRate) }

    /// One step's draw: nil leaves the batch as it is (probability 1 − p).
    public func draw(side: Int, generator: inout RandomGenerator) -> Placement? {
        guard generator.nextUniform() < probability else { return nil }
        let smallest = smallestSide(side)
        let size = smallest + generator.nextInt(below: side - smallest)
        let room = side - size
        let top = generator.nextInt(below: room)
        return Placement(size: size, top: top, left: generator.nextInt(below: room))
    }

    /// The batch (N, C, H, W) as the model sees it at this step: resized to the placement's size and
    /// padded back to H × W. Differentiable.
    public static func apply(_ placement: Placement?, to x: Tensor) throws -> Tensor {
        guard let p = placement else { return x }
        return try x.resizedBilinear(height: p.size, width: p.size)
            .padded(top: p.top, left: p.left, height: x.shape[2], width: x.shape[3])
    }
}
