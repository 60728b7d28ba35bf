import Foundation

/// A contiguous, 64-byte aligned buffer of Float32 values owned by one or more tensors.
///
/// Reshapes share a storage; every other op writes a fresh one. Kernels reach the
/// memory through `pointer` and never through Swift arrays, so hot loops carry no
/// bounds checks or copy-on-write tests. Buffers come from `BufferPool`, which
/// recycles them: a training step allocates the same sizes every iteration, and
/// fresh pages from the kernel (page faults, zeroing) cost more than the arithmetic.
public final class Storage: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` values, zero-filled.
    public init(count: Int) {
        precondition(count >= 0, "negative storage size \(count)")
        self.count = count
        pointer = BufferPool.shared.take(count)
        pointer.initialize(repeating: 0, count: count)
    }

    /// Allocates `count` values without zero-filling: for kernels that write every element.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "negative storage size \(count)")
        self.count = count
        pointer = BufferPool.shared.take(count)
    }

    deinit { BufferPool.shared.give(pointer, count) }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    public func copy() -> Storage {
        let s = Storage(uninitializedCount: count)
        s.pointer.update(from: pointer, count: count)
        return s
    }
}

/// Recycles float buffers by exact size, up to `limitBytes` kept idle.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool(limitBytes: 4 << 30)

    /// Small buffers go straight to malloc, which serves them well.
    private let minimumPooledCount = 4096
    private let limitBytes: Int
    private var idle: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var idleBytes = 0
    private let lock = NSLock()

    init(limitBytes: Int) { self.limitBytes = limitBytes }

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count >= minimumPooledCount {
            lock.lock()
            if let p = idle[count]?.popLast() {
                idleBytes -= count * 4
                lock.unlock()
                return p
            }
            lock.unlock()
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
        if count >= minimumPooledCount {
            lock.lock()
            if idleBytes + count * 4 <= limitBytes {
                idle[count, default: []].append(pointer)
                idleBytes += count * 4
                lock.unlock()
                return
            }
            lock.unlock()
        }
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    /// Frees every idle buffer (after a phase whose sizes will not come back).
    public func drain() {
        lock.lock()
        let all = idle.values.flatMap { $0 }
        idle.removeAll()
        idleBytes = 0
        lock.unlock()
        for p in all { UnsafeMutableRawPointer(p).deallocate() }
    }

    public var idleByteCount: Int { lock.lock(); defer { lock.unlock() }; return idleBytes }
}
