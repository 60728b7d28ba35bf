/// A contiguous, 64-byte aligned buffer of Float32 values owned by one or more tensors.
///
/// Reshapes share a storage; every other op writes a fresh one. Kernels reach the
/// memory through `pointer` and never through Swift arrays, so hot loops carry no
/// bounds checks or copy-on-write tests.
public final class Storage: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` values, zero-filled.
    public init(count: Int) {
        precondition(count >= 0, "negative storage size \(count)")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: count)
    }

    /// Allocates `count` values without zero-filling: for kernels that write every element.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "negative storage size \(count)")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    public func copy() -> Storage {
        let s = Storage(uninitializedCount: count)
        s.pointer.update(from: pointer, count: count)
        return s
    }
}
