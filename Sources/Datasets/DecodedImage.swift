/// One decoded image file: 8-bit, interleaved (HWC) as the codecs produce it.
public struct DecodedImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// 1 (grayscale) or 3 (RGB).
    public let channels: Int
    public let pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(channels == 1 || channels == 3, "images have 1 or 3 channels, not \(channels)")
        precondition(pixels.count == width * height * channels, "\(pixels.count) bytes for \(width)x\(height)x\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Reads a PNG or JPEG file, deciding by its magic bytes rather than its name.
    /// `channels` asks the decoder for grayscale (1) or RGB (3); the codecs convert.
    public static func read(_ path: String, channels: Int) throws -> DecodedImage {
        let bytes = try DatasetFile.readRaw(path)
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try PNGCodec.decode(bytes, channels: channels, path: path) }
        if bytes.starts(with: [0xFF, 0xD8]) { return try JPEGCodec.decode(bytes, channels: channels, path: path) }
        throw DatasetError.undecodableImage(path: path, reason: "neither PNG nor JPEG (first bytes \(bytes.prefix(4).map { String($0, radix: 16) }))")
    }

    /// The image as planar CHW bytes, the layout of `ImageDataset`.
    public func planar() -> [UInt8] {
        if channels == 1 { return pixels }
        var out = [UInt8](repeating: 0, count: pixels.count)
        let plane = width * height
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { destination in
                for p in 0..<plane { for c in 0..<channels { destination[c * plane + p] = source[p * channels + c] } }
            }
        }
        return out
    }
}
