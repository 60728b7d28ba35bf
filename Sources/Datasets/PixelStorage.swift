/// The pixels of a whole dataset as one contiguous UInt8 block, NCHW.
///
/// Bytes instead of Float32: a quarter of the memory, the files' own precision,
/// and the batch builder converts to Float32 in [0, 1] while it gathers anyway.
/// A storage is written once by the code that creates it and only read after,
/// which is what makes sharing it across the prefetch thread safe.
public final class PixelStorage: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<UInt8>

    /// Allocates `count` zero bytes.
    public init(count: Int) {
        precondition(count >= 0, "negative pixel count \(count)")
        self.count = count
        pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: count)
    }

    /// A storage holding a copy of `bytes`.
    public convenience init(copying bytes: UnsafeBufferPointer<UInt8>) {
        self.init(count: bytes.count)
        if let base = bytes.baseAddress { pointer.update(from: base, count: bytes.count) }
    }

    deinit { pointer.deallocate() }

    public var buffer: UnsafeMutableBufferPointer<UInt8> { UnsafeMutableBufferPointer(start: pointer, count: count) }
}
