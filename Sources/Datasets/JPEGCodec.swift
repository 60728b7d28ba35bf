import CJPEG
import Foundation

/// JPEG through libjpeg-turbo. The work happens in C (Sources/CJPEG/shim.h) because
/// libjpeg's error path needs setjmp, which Swift cannot call.
public enum JPEGCodec {
    /// Decodes JPEG bytes to 8-bit gray (`channels` 1) or RGB (3); libjpeg converts color spaces.
    public static func decode(_ bytes: [UInt8], channels: Int, path: String) throws -> DecodedImage {
        var output: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0, height: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { input in
            rt_jpeg_decode(input.baseAddress, UInt(input.count), channels == 1 ? 1 : 0, &output, &width, &height,
                           &message, message.count)
        }
        guard status == 0, let output else {
            throw DatasetError.undecodableImage(path: path, reason: "libjpeg: " + String(cString: message))
        }
        defer { free(output) }
        let count = Int(width) * Int(height) * channels
        return DecodedImage(width: Int(width), height: Int(height), channels: channels,
                            pixels: Array(UnsafeBufferPointer(start: output, count: count)))
    }

    /// Writes an 8-bit gray or RGB JPEG file at `quality` (1–100).
    public static func write(_ image: DecodedImage, to path: String, quality: Int = 95) throws {
        var message = [CChar](repeating: 0, count: 256)
        let status = image.pixels.withUnsafeBufferPointer {
            rt_jpeg_encode_file(path, $0.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels),
                                Int32(quality), &message, message.count)
        }
        guard status == 0 else { throw DatasetError.unreadableFile(path: path, reason: "cannot write JPEG: " + String(cString: message)) }
    }

    /// Encodes an 8-bit gray or RGB image as JPEG bytes in memory at `quality` (1–100), with
    /// libjpeg's defaults (4:2:0 chroma subsampling for RGB), as PIL's JPEG writer does.
    public static func encode(_ image: DecodedImage, quality: Int) throws -> [UInt8] {
        var message = [CChar](repeating: 0, count: 256)
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer {
            rt_jpeg_encode_memory($0.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels), Int32(quality),
                                  &output, &size, &message, message.count)
        }
        guard status == 0, let output else {
            throw DatasetError.undecodableImage(path: "(memory)", reason: "libjpeg cannot encode: " + String(cString: message))
        }
        defer { free(output) }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }
}
