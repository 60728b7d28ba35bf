import TensorEngine

/// One batch as a rank sees it: its slice of a global batch.
public struct Batch: @unchecked Sendable {
    /// (n, C, H, W) Float32 in [0, 1].
    public let images: Tensor
    /// Labels in 0..<classCount, one per image.
    public let labels: [Int]
    /// The dataset indices of the images (for per-example records such as robustness masks).
    public let indices: [Int]
    /// Position of the batch in its epoch.
    public let index: Int
    /// Size of the global batch this slice belongs to: a data-parallel step divides its
    /// summed loss by this, so k ranks reproduce one rank's mean-loss gradient.
    public let globalCount: Int

    public var count: Int { labels.count }
}
