import Foundation
import GRDB

/// The coordinator that serves the run, as the store records it (the lock file is the
/// authority on one host; this record also speaks across hosts sharing a file system).
extension RunStore {
    /// The recorded owner while it has not ended, with its last heartbeat.
    public func owner() throws -> RunOwner? {
        try read { db in
            guard try db.tableExists("run_owner") else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM run_owner WHERE id = 1 AND ended_at IS NULL").map {
                RunOwner(pid: $0["pid"], host: $0["host"], startedAt: $0["started_at"], heartbeatAt: $0["heartbeat_at"])
            }
        }
    }

    /// Records `owner` as serving the run, unless another host's owner has beaten within
    /// `freshness` seconds and not ended: then throws `CoordinatorError.runHeld` naming it.
    public func claimOwnership(_ owner: RunOwner, runDirectory: URL, freshness: TimeInterval) throws {
        try write { db in
            let now = Date().timeIntervalSince1970
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM run_owner WHERE id = 1 AND ended_at IS NULL"),
               row["host"] as String != owner.host, now - (row["heartbeat_at"] as Double) < freshness {
                throw CoordinatorError.runHeld(runDirectory: runDirectory.path, holder: RunOwner(
                    pid: row["pid"], host: row["host"], startedAt: row["started_at"], heartbeatAt: row["heartbeat_at"]))
            }
            try Self.exec(db, "INSERT OR REPLACE INTO run_owner(id, pid, host, started_at, heartbeat_at, ended_at) VALUES (1, ?, ?, ?, ?, NULL)",
                          arguments: [owner.pid, owner.host, owner.startedAt, now])
        }
    }

    public func ownerHeartbeat(pid: Int32) throws {
        try write { db in
            try Self.exec(db, "UPDATE run_owner SET heartbeat_at = ? WHERE id = 1 AND pid = ?", arguments: [Date().timeIntervalSince1970, pid])
        }
    }

    public func endOwnership(pid: Int32) throws {
        try write { db in
            try Self.exec(db, "UPDATE run_owner SET ended_at = ? WHERE id = 1 AND pid = ?", arguments: [Date().timeIntervalSince1970, pid])
        }
    }
}
