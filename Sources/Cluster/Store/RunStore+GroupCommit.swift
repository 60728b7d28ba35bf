import Foundation
import GRDB

/// Group commit: the coordinator handles a burst of messages (or hands out a round of leases)
/// as one SQLite transaction instead of one per state change. Each change still runs alone in
/// a savepoint, so one that fails is undone without touching the others, and the burst is
/// committed even when a change in it throws. Per-transaction costs (the WAL frames of the
/// pages every change touches, the file locks) are paid once per burst: this is what lets one
/// coordinator keep up with thousands of short trials a second (BENCHMARKS.md).
///
/// Only the thread that opened the batch joins it; any other thread's change waits for the
/// batch to commit, as it would for any SQLite writer. A change is visible to readers, and
/// survives a killed coordinator, once its batch commits; the coordinator therefore sends what
/// a batch implies (leases, status replies) only after the commit (`Coordinator+Outbox`).
extension RunStore {
    /// Runs `body` with every change this thread makes to the store in one transaction.
    public func batch<T>(_ body: () throws -> T) throws -> T {
        precondition(batchDatabase() == nil, "RunStore.batch does not nest")
        var outcome: Result<T, Error>?
        try pool.writeWithoutTransaction { db in
            try db.inTransaction {
                setBatchDatabase(db)
                defer { setBatchDatabase(nil) }
                outcome = Result { try body() }
                return .commit
            }
        }
        return try outcome!.get()
    }

    /// One state change: a savepoint of the open batch on this thread, else a transaction of its own.
    func write<T>(_ change: (Database) throws -> T) throws -> T {
        guard let db = batchDatabase() else { return try pool.write(change) }
        var value: T?
        try db.inSavepoint {
            value = try change(db)
            return .commit
        }
        return value!
    }

    /// A read: inside this thread's batch it sees the batch's changes (a reader connection would
    /// not, and GRDB forbids reading from within the write it runs).
    func read<T>(_ query: (Database) throws -> T) throws -> T {
        if let db = batchDatabase() { return try query(db) }
        return try pool.read(query)
    }
}

/// The database of the batch open on a thread, keyed by the thread: the store is shared by
/// the coordinator's loop and the threads that read it.
final class BatchSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var open: (thread: pthread_t, db: Database)?

    func database() -> Database? {
        lock.withLock { open.flatMap { pthread_equal($0.thread, pthread_self()) != 0 ? $0.db : nil } }
    }

    func set(_ db: Database?) {
        lock.withLock { open = db.map { (pthread_self(), $0) } }
    }
}
