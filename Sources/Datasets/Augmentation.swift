import TensorEngine

/// Training-time augmentation applied while a batch is built: a random crop of the image
/// zero-padded by `cropPadding` on each side (torchvision's `RandomCrop(size, padding)`),
/// then a horizontal flip with probability 1/2 when `horizontalFlip`.
///
/// The random choices of an example depend only on (seed, epoch, its position in the
/// epoch's global order), never on the batch size seen by one rank or on prefetching,
/// so sharded and single-process training see the same pixels.
public struct Augmentation: Equatable, Sendable {
    public var cropPadding: Int
    public var horizontalFlip: Bool

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }

    public static let none = Augmentation()

    public var isIdentity: Bool { cropPadding == 0 && !horizontalFlip }

    /// The choices for one example.
    struct Choice: Equatable {
        /// Where the crop window starts in the padded image, 0...2*padding.
        let offsetY: Int
        let offsetX: Int
        let flip: Bool
    }

    func choice(using generator: inout RandomGenerator) -> Choice {
        let span = 2 * cropPadding + 1
        let y = cropPadding > 0 ? generator.nextInt(below: span) : 0
        let x = cropPadding > 0 ? generator.nextInt(below: span) : 0
        let flip = horizontalFlip && (generator.next() >> 63) == 1
        return Choice(offsetY: y, offsetX: x, flip: flip)
    }
}
