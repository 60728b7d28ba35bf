/// One image while it is corrupted: planar (C, H, W) Float32 values in [0, 1], C = 1 or 3.
/// Corruptions are per image (each draws from its own random stream), so a batch is corrupted
/// image by image.
public struct CorruptionImage: Equatable, Sendable {
    public let channels: Int
    public let height: Int
    public let width: Int
    public var pixels: [Float]

    public init(channels: Int, height: Int, width: Int, pixels: [Float]) {
        precondition(pixels.count == channels * height * width, "\(pixels.count) values for \(channels)x\(height)x\(width)")
        (self.channels, self.height, self.width, self.pixels) = (channels, height, width, pixels)
    }

    var plane: Int { height * width }

    mutating func clip() {
        for i in pixels.indices { pixels[i] = min(max(pixels[i], 0), 1) }
    }

    /// Applies `body` to each channel's plane in place.
    mutating func forEachPlane(_ body: (inout [Float]) -> Void) {
        let size = plane
        for c in 0..<channels {
            var values = Array(pixels[c * size..<(c + 1) * size])
            body(&values)
            pixels.replaceSubrange(c * size..<(c + 1) * size, with: values)
        }
    }
}
