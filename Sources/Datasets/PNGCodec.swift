import CPNG

/// PNG through libpng's simplified API, which handles palettes, 16-bit samples, alpha
/// and gray/RGB conversion itself, and reports errors as a message instead of longjmp.
public enum PNGCodec {
    /// Decodes PNG bytes to 8-bit gray (`channels` 1) or RGB (3). Alpha is composited onto black
    /// (the zeroed output buffer). A color PNG asked for in gray is read as RGB and reduced with
    /// the ITU-R 601 luma like JPEG and `converted(toChannels:)`, not with libpng's linear-light
    /// Rec. 709 mix, so one dataset's gray pixels do not depend on its files' format.
    public static func decode(_ bytes: [UInt8], channels: Int, path: String) throws -> DecodedImage {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        let began = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard began != 0 else { throw DatasetError.undecodableImage(path: path, reason: message(of: image)) }
        defer { png_image_free(&image) }
        let sourceHasColor = image.format & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0
        if channels == 1 && sourceHasColor {
            return try decodeRGB(&image, path: path).luma()
        }
        return try decodeRGB(&image, channels: channels, path: path)
    }

    /// Finishes a started read as 8-bit gray (`channels` 1) or RGB (3).
    private static func decodeRGB(_ image: inout png_image, channels: Int = 3, path: String) throws -> DecodedImage {
        image.format = channels == 1 ? png_uint_32(PNG_FORMAT_GRAY) : png_uint_32(PNG_FORMAT_RGB)
        let (width, height) = (Int(image.width), Int(image.height))
        // A header can claim any size; a dataset image beyond 256 MiB is corrupt, not big.
        guard width * height * channels <= 1 << 28 else {
            throw DatasetError.undecodableImage(path: path, reason: "header claims \(width)x\(height) pixels, too large for a dataset image")
        }
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let finished = pixels.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, png_int_32(width * channels), nil)
        }
        guard finished != 0 else { throw DatasetError.undecodableImage(path: path, reason: message(of: image)) }
        return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Writes an 8-bit gray or RGB PNG file (fixtures, saved examples).
    public static func write(_ decoded: DecodedImage, to path: String) throws {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(decoded.width)
        image.height = png_uint_32(decoded.height)
        image.format = decoded.channels == 1 ? png_uint_32(PNG_FORMAT_GRAY) : png_uint_32(PNG_FORMAT_RGB)
        let written = decoded.pixels.withUnsafeBytes {
            png_image_write_to_file(&image, path, 0, $0.baseAddress, png_int_32(decoded.width * decoded.channels), nil)
        }
        guard written != 0 else { throw DatasetError.unreadableFile(path: path, reason: "cannot write PNG: \(message(of: image))") }
    }

    private static func message(of image: png_image) -> String {
        var copy = image.message
        return withUnsafeBytes(of: &copy) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
