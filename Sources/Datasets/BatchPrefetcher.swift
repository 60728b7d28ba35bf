import Foundation

/// Builds batches 0..<count on one background thread, at most `depth` ahead of the consumer.
/// One producer working in index order and a FIFO queue mean batches arrive in order.
/// When the consumer drops the prefetcher (e.g. leaves the epoch loop early), the
/// producer is told to stop and exits after the batch it is building.
final class BatchPrefetcher {
    /// The state both threads touch, guarded by `condition`. The producer holds this, not
    /// the prefetcher, so dropping the prefetcher runs its deinit.
    private final class Shared: @unchecked Sendable {
        let condition = NSCondition()
        var ready: [Batch] = []
        var readHead = 0
        var produced = 0
        var cancelled = false
    }

    private let shared = Shared()
    private let count: Int
    private var consumed = 0

    init(count: Int, depth: Int, make: @escaping @Sendable (Int) -> Batch) {
        self.count = count
        let shared = self.shared
        let thread = Thread {
            for index in 0..<count {
                shared.condition.lock()
                while !shared.cancelled && shared.ready.count - shared.readHead >= depth { shared.condition.wait() }
                let stop = shared.cancelled
                shared.condition.unlock()
                if stop { return }
                let batch = make(index)  // outside the lock: the consumer keeps reading meanwhile
                shared.condition.lock()
                shared.ready.append(batch)
                shared.produced += 1
                shared.condition.broadcast()
                shared.condition.unlock()
            }
        }
        thread.name = "rt.loader.prefetch"
        thread.start()
    }

    deinit {
        shared.condition.lock()
        shared.cancelled = true
        shared.ready.removeAll()
        shared.readHead = 0
        shared.condition.broadcast()
        shared.condition.unlock()
    }

    func next() -> Batch? {
        guard consumed < count else { return nil }
        shared.condition.lock()
        defer { shared.condition.unlock() }
        while shared.ready.count == shared.readHead { shared.condition.wait() }
        let batch = shared.ready[shared.readHead]
        shared.readHead += 1
        // Compact now and then so the queue does not grow with the epoch.
        if shared.readHead >= 64 {
            shared.ready.removeFirst(shared.readHead)
            shared.readHead = 0
        }
        consumed += 1
        shared.condition.broadcast()
        return batch
    }
}
