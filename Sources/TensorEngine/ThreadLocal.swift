import Foundation

/// A per-thread value with a default, on POSIX thread-specific storage.
/// (Swift's @TaskLocal crashes here when nested outside a task, so the engine keeps its own.)
public final class ThreadLocal<Value>: @unchecked Sendable {
    private final class Box { var value: Value; init(_ value: Value) { self.value = value } }
    private var key = pthread_key_t()
    private let defaultValue: Value

    public init(_ defaultValue: Value) {
        self.defaultValue = defaultValue
        pthread_key_create(&key) { pointer in if let pointer { Unmanaged<AnyObject>.fromOpaque(pointer).release() } }
    }

    private var box: Box {
        if let raw = pthread_getspecific(key) { return Unmanaged<Box>.fromOpaque(raw).takeUnretainedValue() }
        let box = Box(defaultValue)
        pthread_setspecific(key, Unmanaged.passRetained(box).toOpaque())
        return box
    }

    public var value: Value {
        get { box.value }
        set { box.value = newValue }
    }

    /// Runs `body` with the value set on this thread, restoring the previous one after.
    public func withValue<T>(_ value: Value, _ body: () throws -> T) rethrows -> T {
        let b = box
        let saved = b.value
        b.value = value
        defer { b.value = saved }
        return try body()
    }
}
