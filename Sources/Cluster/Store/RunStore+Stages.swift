import Foundation
import GRDB

/// Why stages could not be appended to a stored run. Nothing was written.
public enum StageAppendError: Error, Equatable, CustomStringConvertible {
    case noSweep(store: String)
    /// A stage of that name is in the run with another definition.
    case conflictingDefinition(stage: String, store: String)
    case invalidStage(stage: String, field: String, problem: String)

    public var description: String {
        switch self {
        case let .noSweep(store):
            return "\(store): holds no sweep to append stages to"
        case let .conflictingDefinition(stage, store):
            return "stage \"\(stage)\": \(store) already has a stage of that name with another definition; give the new one another name"
        case let .invalidStage(stage, field, problem):
            return "stage \"\(stage)\": \(field): \(problem)"
        }
    }
}

/// What `RunStore.appendStages` did.
public struct StageAppendResult: Equatable, Sendable {
    /// Stages added now, in the order given.
    public var added: [String]
    /// Stages the run already had with the same definition: nothing was added for them.
    public var unchanged: [String]
    /// The new trials, stored as pending.
    public var trials: [TrialSpec]
}

/// A run's stages over time: the sweep file it was created from, then stages appended later
/// (e.g. a new attack suite run on every stored checkpoint as new trials of the same store).
extension RunStore {
    /// The run's sweep: the stored sweep file followed by every appended stage; nil if none.
    public func sweep() throws -> SweepSpec? {
        try read { db in try self.sweep(db) }
    }

    /// Expands `stages` against the trials already stored and inserts the new trials, all in one
    /// transaction. A stage's `from:` may name the run's stages or stages earlier in `stages`.
    /// Idempotent: a stage whose name the run has with the same definition adds nothing; the
    /// same name with another definition is `StageAppendError.conflictingDefinition`.
    ///
    /// The coordinator reads the trials when it starts, so append while none serves the run;
    /// `Coordinator(resuming:)` (`rt run --resume-dir`) then runs the new trials.
    @discardableResult
    public func appendStages(_ stages: [StageSpec]) throws -> StageAppendResult {
        try write { db in
            guard var sweep = try self.sweep(db) else { throw StageAppendError.noSweep(store: path) }
            var added: [StageSpec] = []
            var unchanged: [String] = []
            for stage in stages {
                if let known = sweep.stages.first(where: { $0.name == stage.name }) {
                    guard known.canonicalDefinition == stage.canonicalDefinition else {
                        throw StageAppendError.conflictingDefinition(stage: stage.name, store: path)
                    }
                    unchanged.append(stage.name)
                    continue
                }
                try Self.validate(stage, earlier: sweep.stages.map(\.name))
                sweep.stages.append(stage)
                added.append(stage)
            }
            guard !added.isEmpty else { return StageAppendResult(added: [], unchanged: unchanged, trials: []) }
            let extra = try Self.extraParents(db)
            let existing = try Row.fetchAll(db, sql: "SELECT * FROM trials").map { try Self.trialRecord($0, extraParents: extra, path: path).spec }
            var seedSets = StageSeeds.seedSets(of: existing)
            for stage in added {
                if let problem = StageSeeds.problem(with: stage, sweepSeeds: sweep.seeds, parentSeeds: seedSets) {
                    throw StageAppendError.invalidStage(stage: stage.name, field: "seeds", problem: problem)
                }
                seedSets[stage.name] = Set(StageSeeds.seeds(of: stage, sweepSeeds: sweep.seeds))
            }
            let trials = SweepExpander.expand(added, after: existing, seeds: sweep.seeds, retries: sweep.retries)
            try Self.insertTrials(db, trials)
            try Self.exec(db, "INSERT INTO appended_stages(stages, trials, created_at) VALUES (?, ?, ?)",
                          arguments: [ClusterJSON.string(added), trials.count, Date().timeIntervalSince1970])
            try Self.event(db, trial: nil, kind: "stages-appended", worker: nil,
                           detail: "\(added.map(\.name).joined(separator: ", ")): \(trials.count) trials")
            return StageAppendResult(added: added.map(\.name), unchanged: unchanged, trials: trials)
        }
    }

    private func sweep(_ db: Database) throws -> SweepSpec? {
        guard let text = try String.fetchOne(db, sql: "SELECT spec FROM sweeps LIMIT 1") else { return nil }
        var sweep = try SweepParser(file: "\(path) (stored sweep)").parse(text)
        // A store from before migration v2 opened read-only has no appended stages.
        guard try db.tableExists("appended_stages") else { return sweep }
        for json in try String.fetchAll(db, sql: "SELECT stages FROM appended_stages ORDER BY id") {
            do { sweep.stages += try ClusterJSON.decode([StageSpec].self, from: Data(json.utf8)) } catch {
                throw StoreError(path: path, problem: "an appended stage cannot be read: \(error)")
            }
        }
        return sweep
    }

    /// What the sweep parser checks, for stages made in code rather than read from YAML.
    private static func validate(_ stage: StageSpec, earlier: [String]) throws {
        func invalid(_ field: String, _ problem: String) -> StageAppendError {
            .invalidStage(stage: stage.name, field: field, problem: problem)
        }
        guard stage.name.range(of: "^[A-Za-z0-9_-]+$", options: .regularExpression) != nil else {
            throw invalid("name", "may only hold letters, digits, '_' and '-' (it prefixes trial ids)")
        }
        guard !stage.job.isEmpty else { throw invalid("job", "missing: which job type runs this stage?") }
        for (index, parent) in stage.from.enumerated() {
            guard earlier.contains(parent) else { throw invalid("from[\(index)]", "the run has no stage named \"\(parent)\"") }
            guard !stage.from[..<index].contains(parent) else { throw invalid("from[\(index)]", "names \"\(parent)\" twice") }
        }
        for axis in stage.grid where axis.values.isEmpty { throw invalid("grid.\(axis.name)", "an empty axis would make no trials") }
        if let random = stage.random, random.count < 1 { throw invalid("random.count", "must be at least 1") }
        if let retries = stage.retries, retries < 0 { throw invalid("retries", "must be 0 or more") }
        if let seeds = stage.seeds {
            guard !seeds.isEmpty else { throw invalid("seeds", "an empty list would make no trials") }
            guard Set(seeds).count == seeds.count else { throw invalid("seeds", "repeats a seed") }
        }
        if stage.fromSeed != nil, stage.from.isEmpty { throw invalid("from_seed", "needs from: (it names the parent seed to start from)") }
    }
}
