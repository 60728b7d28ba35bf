import Foundation
import GRDB

public struct StoreError: Error, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}

/// The truth about a sweep: SQLite in WAL mode at `runs/<sweep>/rt.sqlite`.
///
/// Every state change is all-or-nothing and also appends to `events`, so a coordinator
/// killed at any instant leaves either the old or the new state, never half of one. A change is
/// a transaction of its own, or a savepoint of the coordinator's group commit (`batch`).
/// `synchronous = NORMAL` in WAL mode survives a killed process (not a power cut), which is
/// the failure this store is built for, at thousands of transactions per second.
public final class RunStore: @unchecked Sendable {
    public static let fileName = "rt.sqlite"
    public let path: String
    let pool: DatabasePool
    private let batchSlot = BatchSlot()
    func batchDatabase() -> Database? { batchSlot.database() }
    func setBatchDatabase(_ db: Database?) { batchSlot.set(db) }

    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try Self.exec(db, "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            if !readOnly { try RunStoreSchema.migrator.migrate(pool) }
        } catch {
            throw StoreError(path: path, problem: "cannot open the store: \(error)")
        }
    }

    public static func url(runDirectory: URL) -> URL { runDirectory.appendingPathComponent(fileName) }

    // MARK: Sweep

    /// Writes the sweep and all its trials in one transaction, before anything runs.
    public func createSweep(_ sweep: SweepSpec, text: String, trials: [TrialSpec]) throws {
        try write { db in
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sweeps") ?? 0 > 0 {
                throw StoreError(path: path, problem: "already holds a sweep; use --resume to continue it or remove the run directory")
            }
            try Self.exec(db, "INSERT INTO sweeps(name, spec, spec_hash, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [sweep.name, text, SHA256.hex(Data(text.utf8)), Date().timeIntervalSince1970])
            try Self.insertTrials(db, trials)
            try Self.event(db, trial: nil, kind: "sweep-created", worker: nil, detail: "\(trials.count) trials")
        }
    }

    /// Pending trials, their first parent in `trials.parent_trial`, the others in `trial_parents`.
    static func insertTrials(_ db: Database, _ trials: [TrialSpec]) throws {
        for trial in trials {
            try exec(db, """
                INSERT INTO trials(id, stage, job, parameters, seed, parent_trial, max_attempts, ord, state, attempts, replicas)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)
                """, arguments: [trial.id, trial.stage, trial.job, ClusterJSON.string(trial.parameters),
                                 trial.seed, trial.parentTrialID, trial.maxAttempts, trial.order, trial.replicas])
            for (position, parent) in trial.parentTrialIDs.enumerated().dropFirst() {
                try exec(db, "INSERT INTO trial_parents(trial_id, position, parent_trial) VALUES (?, ?, ?)",
                         arguments: [trial.id, position, parent])
            }
        }
    }

    /// (name, hash of the sweep text) of the stored sweep, nil if none.
    public func storedSweep() throws -> (name: String, specHash: String, spec: String)? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT name, spec_hash, spec FROM sweeps LIMIT 1").map { ($0["name"], $0["spec_hash"], $0["spec"]) }
        }
    }

    public func trials() throws -> [TrialRecord] {
        try read { db in
            let extra = try Self.extraParents(db)
            return try Row.fetchAll(db, sql: "SELECT * FROM trials ORDER BY ord").map { try Self.trialRecord($0, extraParents: extra, path: path) }
        }
    }

    public func counts() throws -> [TrialState: Int] {
        try read { db in
            var counts: [TrialState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM trials GROUP BY state") {
                let text = (row["state"] as DatabaseValue).storage
                guard case let .string(name) = text, let state = TrialState(rawValue: name) else {
                    // Name the first row that holds it: a trial in no known state would never be leased.
                    let id = try String.fetchOne(db, sql: "SELECT id FROM trials WHERE state IS ? LIMIT 1", arguments: [row["state"] as DatabaseValue])
                    throw StoreError(path: path, problem: "table trials, row \(id ?? "?"), column state: \(StoredRow.describe(text)) is not a trial state")
                }
                counts[state] = row["n"]
            }
            return counts
        }
    }

    // MARK: State changes (one transaction each)

    /// pending -> leased; the attempt number is the new attempts count. Returns it, nil if the trial was not pending.
    @discardableResult
    public func lease(trialID: String, worker: String, host: String) throws -> Int? {
        try write { db in
            let update = try db.cachedStatement(sql: "UPDATE trials SET state = 'leased', attempts = attempts + 1, worker = ?, host = ?, leased_at = ? WHERE id = ? AND state = 'pending' RETURNING attempts")
            guard let attempt = try Int.fetchOne(update, arguments: [worker, host, Date().timeIntervalSince1970, trialID]) else { return nil }
            try Self.event(db, trial: trialID, kind: "leased", worker: worker, detail: "attempt \(attempt)")
            return attempt
        }
    }

    public enum ResultOutcome: Equatable { case accepted, alreadyFinal(TrialState), unknownTrial }

    /// A produced artifact as the store records it: where its bytes are and where it came from.
    public struct StoredArtifact {
        public var reference: ArtifactReference
        public var parentHash: String?
        public var path: String
        public init(reference: ArtifactReference, parentHash: String?, path: String) {
            self.reference = reference
            self.parentHash = parentHash
            self.path = path
        }
    }

    /// Commits a result: results row, masks, artifact row, trial -> done, event, all in one
    /// transaction (a dependant must never find its parent done but its artifact unrecorded).
    /// At most once per trial: a result for a trial that is already done or failed changes nothing.
    public func commitResult(trialID: String, attempt: Int, worker: String, host: String, metrics: [String: JSONValue],
                             masks: [(String, Data)], artifact: StoredArtifact?, seconds: Double) throws -> ResultOutcome {
        try write { db in
            guard let state = try String.fetchOne(db.cachedStatement(sql: "SELECT state FROM trials WHERE id = ?"), arguments: [trialID]).flatMap(TrialState.init) else {
                return .unknownTrial
            }
            guard state == .pending || state == .leased else { return .alreadyFinal(state) }
            try Self.exec(db, "INSERT INTO results(trial_id, attempt, worker, host, metrics, seconds, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [trialID, attempt, worker, host, ClusterJSON.string(metrics), seconds, Date().timeIntervalSince1970])
            for (name, data) in masks {
                try Self.exec(db, "INSERT INTO masks(trial_id, name, data) VALUES (?, ?, ?)", arguments: [trialID, name, data])
            }
            if let artifact {
                try Self.recordArtifact(db, artifact.reference, trialID: trialID, parentHash: artifact.parentHash, path: artifact.path)
            }
            try Self.exec(db, "UPDATE trials SET state = 'done', worker = ?, host = ?, artifact_hash = ?, finished_at = ? WHERE id = ?",
                           arguments: [worker, host, artifact?.reference.hash, Date().timeIntervalSince1970, trialID])
            try Self.event(db, trial: trialID, kind: "done", worker: worker, detail: "attempt \(attempt)")
            return .accepted
        }
    }

    /// A lease ended without a result: back to pending while the retry budget lasts, else failed.
    /// An `interrupted` lease (a stop, a preemption: nothing wrong with the trial) goes back to
    /// pending and gets its attempt back: the budget grows by one, so attempt numbers stay unique.
    /// Returns the new state, nil if the trial was not leased (already requeued, done or failed).
    @discardableResult
    public func releaseLease(trialID: String, reason: String, worker: String?, interrupted: Bool = false) throws -> TrialState? {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT state, attempts, max_attempts FROM trials WHERE id = ?", arguments: [trialID]),
                  row["state"] as String == TrialState.leased.rawValue else { return nil }
            if interrupted {
                try Self.exec(db, "UPDATE trials SET state = 'pending', max_attempts = max_attempts + 1 WHERE id = ?", arguments: [trialID])
                try Self.event(db, trial: trialID, kind: "interrupted", worker: worker, detail: reason)
                return .pending
            }
            let attempts: Int = row["attempts"], maxAttempts: Int = row["max_attempts"]
            if attempts >= maxAttempts {
                let why = "\(reason) (retry budget exhausted after \(attempts) attempts)"
                try Self.exec(db, "UPDATE trials SET state = 'failed', failure = ?, finished_at = ? WHERE id = ?",
                               arguments: [why, Date().timeIntervalSince1970, trialID])
                try Self.event(db, trial: trialID, kind: "failed", worker: worker, detail: why)
                return .failed
            }
            try Self.exec(db, "UPDATE trials SET state = 'pending', failure = ? WHERE id = ?", arguments: [reason, trialID])
            try Self.event(db, trial: trialID, kind: "requeued", worker: worker, detail: reason)
            return .pending
        }
    }

    /// Marks a trial that can never run (e.g. its parent failed) as failed.
    public func markFailed(trialID: String, reason: String) throws {
        try write { db in
            try Self.exec(db, "UPDATE trials SET state = 'failed', failure = ?, finished_at = ? WHERE id = ? AND state IN ('pending', 'leased')",
                           arguments: [reason, Date().timeIntervalSince1970, trialID])
            if db.changesCount == 1 { try Self.event(db, trial: trialID, kind: "failed", worker: nil, detail: reason) }
        }
    }

    /// After a coordinator restart no lease is held by anyone it knows: leased -> pending.
    /// The attempt stays counted; a worker still holding the old lease may deliver it (accepted once).
    /// With `interrupted` (a coordinator that stops on purpose) each gets its attempt back.
    public func releaseAllLeases(reason: String, interrupted: Bool = false) throws -> Int {
        try write { db in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM trials WHERE state = 'leased'")
            try Self.exec(db, interrupted ? "UPDATE trials SET state = 'pending', max_attempts = max_attempts + 1 WHERE state = 'leased'"
                                          : "UPDATE trials SET state = 'pending' WHERE state = 'leased'")
            for id in ids { try Self.event(db, trial: id, kind: interrupted ? "interrupted" : "requeued", worker: nil, detail: reason) }
            return ids.count
        }
    }

    public func recordEvent(kind: String, trialID: String? = nil, worker: String? = nil, detail: String) throws {
        try write { db in try Self.event(db, trial: trialID, kind: kind, worker: worker, detail: detail) }
    }

    // MARK: Artifacts

    /// Identical content made twice keeps its first lineage (artifacts are content-addressed).
    static func recordArtifact(_ db: Database, _ reference: ArtifactReference, trialID: String?, parentHash: String?, path: String) throws {
        try exec(db, "INSERT OR IGNORE INTO artifacts(hash, size, name, trial_id, parent_hash, path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 arguments: [reference.hash, reference.size, reference.name, trialID, parentHash, path, Date().timeIntervalSince1970])
    }

    /// The stored artifact with its lineage: the trial that made it and that trial's parent artifact.
    public func artifact(hash: String) throws -> (reference: ArtifactReference, path: String, trialID: String?, parentHash: String?)? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM artifacts WHERE hash = ?", arguments: [hash]).map {
                (ArtifactReference(hash: $0["hash"], size: $0["size"], name: $0["name"]), $0["path"], $0["trial_id"], $0["parent_hash"])
            }
        }
    }

    // MARK: Checkpoints of running trials

    /// Keeps `reference` (already in the vault at `path`) as the trial's latest checkpoint.
    public func recordCheckpoint(trialID: String, attempt: Int, reference: ArtifactReference, path: String, step: Int, worker: String) throws {
        try write { db in
            try Self.recordArtifact(db, reference, trialID: trialID, parentHash: nil, path: path)
            try Self.exec(db, "INSERT OR REPLACE INTO checkpoints(trial_id, hash, step, attempt, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [trialID, reference.hash, step, attempt, Date().timeIntervalSince1970])
            try Self.event(db, trial: trialID, kind: "checkpoint", worker: worker, detail: "attempt \(attempt), step \(step)")
        }
    }

    /// The trial's latest checkpoint, if an attempt stored one.
    public func checkpoint(trialID: String) throws -> ResumePoint? {
        try read { db in
            try Row.fetchOne(db, sql: """
                SELECT c.step, a.hash, a.size, a.name FROM checkpoints c JOIN artifacts a ON a.hash = c.hash WHERE c.trial_id = ?
                """, arguments: [trialID]).map {
                ResumePoint(artifact: ArtifactReference(hash: $0["hash"], size: $0["size"], name: $0["name"]), step: $0["step"])
            }
        }
    }

    // MARK: Reading for reports

    public func events(trialID: String? = nil) throws -> [(at: Double, kind: String, trial: String?, worker: String?, detail: String)] {
        try read { db in
            let rows = trialID == nil
                ? try Row.fetchAll(db, sql: "SELECT * FROM events ORDER BY id")
                : try Row.fetchAll(db, sql: "SELECT * FROM events WHERE trial_id = ? ORDER BY id", arguments: [trialID])
            return rows.map { ($0["at"], $0["kind"], $0["trial_id"], $0["worker"], $0["detail"]) }
        }
    }

    /// Times (seconds since 1970) of the events of the given kinds, by kind.
    public func eventTimes(kinds: [String]) throws -> [String: [Double]] {
        try read { db in
            var out: [String: [Double]] = [:]
            let marks = kinds.map { _ in "?" }.joined(separator: ", ")
            for row in try Row.fetchAll(db, sql: "SELECT kind, at FROM events WHERE kind IN (\(marks))", arguments: StatementArguments(kinds)) {
                out[row["kind"], default: []].append(row["at"])
            }
            return out
        }
    }

    public func masks(trialID: String) throws -> [String: Data] {
        try read { db in
            var out: [String: Data] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, data FROM masks WHERE trial_id = ?", arguments: [trialID]) { out[row["name"]] = row["data"] }
            return out
        }
    }

    public func report() throws -> SweepReport {
        try read { db in
            let name = try String.fetchOne(db, sql: "SELECT name FROM sweeps LIMIT 1") ?? "?"
            var results: [String: Row] = [:]
            var workers: [String: ResultTotals] = [:], hosts: [String: ResultTotals] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM results") {
                let r = StoredRow(row, table: "results", path: path, idColumn: "trial_id")
                let seconds = try r.optionalDouble("seconds") ?? 0, worker = try r.string("worker"), host = try r.string("host")
                results[try r.string("trial_id")] = row
                workers[worker, default: ResultTotals()].done += 1
                workers[worker, default: ResultTotals()].seconds += seconds
                hosts[host, default: ResultTotals()].done += 1
                hosts[host, default: ResultTotals()].seconds += seconds
            }
            var counts: [String: Int] = [:]
            let extra = try Self.extraParents(db)
            let trials = try Row.fetchAll(db, sql: "SELECT * FROM trials ORDER BY ord").map { row -> TrialReport in
                let record = try Self.trialRecord(row, extraParents: extra, path: path)
                counts[record.state.rawValue, default: 0] += 1
                let result = results[record.spec.id].map { StoredRow($0, table: "results", path: path, idColumn: "trial_id") }
                return TrialReport(
                    id: record.spec.id, stage: record.spec.stage, job: record.spec.job, parameters: record.spec.parameters,
                    seed: record.spec.seed, parent: record.spec.parentTrialID, parents: record.spec.parentTrialIDs,
                    state: record.state.rawValue,
                    attempts: record.attempts, worker: record.worker, host: record.host,
                    metrics: try result?.json("metrics", as: [String: JSONValue].self),
                    failure: record.state == .failed ? record.failureReason : nil,
                    artifact: record.artifactHash, seconds: try result?.optionalDouble("seconds"))
            }
            return SweepReport(sweep: name, counts: counts, trials: trials, workers: workers, hosts: hosts)
        }
    }

    // MARK: Helpers

    /// One statement, compiled once per connection: the coordinator runs these thousands of times a second.
    static func exec(_ db: Database, _ sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
    }

    static func event(_ db: Database, trial: String?, kind: String, worker: String?, detail: String) throws {
        try Self.exec(db, "INSERT INTO events(at, trial_id, kind, worker, detail) VALUES (?, ?, ?, ?, ?)",
                       arguments: [Date().timeIntervalSince1970, trial, kind, worker, detail])
    }

    /// trial id -> its parents after the first, in `from:` order. Empty for a store from before
    /// migration v2 opened read-only (it has no trial with several parents).
    static func extraParents(_ db: Database) throws -> [String: [String]] {
        guard try db.tableExists("trial_parents") else { return [:] }
        var out: [String: [String]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT trial_id, parent_trial FROM trial_parents ORDER BY trial_id, position") {
            out[row["trial_id"], default: []].append(row["parent_trial"])
        }
        return out
    }

    /// One `trials` row, every column checked (`StoredRow`): an impossible value is an error
    /// naming the row and column, never a GRDB fatal error, a default state or empty parameters.
    static func trialRecord(_ row: Row, extraParents: [String: [String]], path: String) throws -> TrialRecord {
        let r = StoredRow(row, table: "trials", path: path, idColumn: "id")
        let id = try r.string("id")
        let first = try r.optionalString("parent_trial")
        let stateText = try r.string("state")
        guard let state = TrialState(rawValue: stateText) else {
            throw r.fail("state", "'\(stateText)' is not a trial state (\(TrialState.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let spec = TrialSpec(
            id: id, stage: try r.string("stage"), job: try r.string("job"),
            parameters: try r.json("parameters", as: [String: JSONValue].self),
            seed: try r.int("seed"), parentTrialIDs: first.map { [$0] + extraParents[id, default: []] } ?? [],
            maxAttempts: try r.int("max_attempts"), order: try r.int("ord"),
            // A store from before migration v3 opened read-only has no replicas column: every trial had one.
            replicas: row.hasColumn("replicas") ? try r.int("replicas") : 1)
        return TrialRecord(spec: spec, state: state, attempts: try r.int("attempts"),
                           worker: try r.optionalString("worker"), host: try r.optionalString("host"),
                           failureReason: try r.optionalString("failure"), artifactHash: try r.optionalString("artifact_hash"))
    }
}
