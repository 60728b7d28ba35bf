import Foundation
import GRDB
import XCTest
@testable import Cluster

/// Several parents in the store, and stages appended to a stored run.
final class StageAppendTests: XCTestCase {
    private var temporary: TemporaryDirectory!
    private var directory: URL { temporary.url }

    override func setUpWithError() throws { temporary = try TemporaryDirectory(prefix: "rt-append") }

    override func tearDown() { temporary.remove() }

    private let text = """
        name: s
        seeds: [1, 2]
        retries: 1
        stages:
          - {name: train, job: sum, grid: {add: [1, 2]}}
          - {name: side, job: sum}
          - {name: join, job: sum, from: [train, side]}
        """

    private func makeStore() throws -> RunStore {
        let sweep = try SweepParser(file: "s.yaml").parse(text)
        let store = try RunStore(path: directory.appendingPathComponent("rt.sqlite").path)
        try store.createSweep(sweep, text: text, trials: SweepExpander.expand(sweep))
        return store
    }

    private let attack = StageSpec(name: "attack", job: "sum", parameters: ["eps": .double(1.0)], from: ["train"])

    func testSeveralParentsAreStoredInFromOrderAndReadBack() throws {
        let store = try makeStore()
        let join = try store.trials().filter { $0.spec.stage == "join" }
        XCTAssertEqual(join.map(\.spec.parentTrialIDs), [["train-0000", "side-0000"], ["train-0001", "side-0000"],
                                                         ["train-0002", "side-0001"], ["train-0003", "side-0001"]])
        let parentColumn = try store.pool.read { try String.fetchAll($0, sql: "SELECT parent_trial FROM trials WHERE stage = 'join' ORDER BY ord") }
        XCTAssertEqual(parentColumn, ["train-0000", "train-0001", "train-0002", "train-0003"], "trials.parent_trial keeps the first parent")
        XCTAssertEqual(try store.report().trials.first { $0.id == "join-0002" }?.parents, ["train-0002", "side-0001"])
    }

    func testAppendingExpandsAgainstStoredTrialsAndTwiceAddsNothing() throws {
        let store = try makeStore()
        let before = try store.trials()
        let first = try store.appendStages([attack, StageSpec(name: "both", job: "sum", from: ["attack", "side"])])
        XCTAssertEqual(first.added, ["attack", "both"])
        XCTAssertEqual(first.trials.map(\.id), ["attack-0000", "attack-0001", "attack-0002", "attack-0003",
                                                "both-0000", "both-0001", "both-0002", "both-0003"])
        XCTAssertEqual(first.trials.filter { $0.stage == "attack" }.map(\.parentTrialID), ["train-0000", "train-0001", "train-0002", "train-0003"])
        XCTAssertEqual(first.trials.filter { $0.stage == "both" }.map(\.parentTrialIDs)[2], ["attack-0002", "side-0001"])
        XCTAssertEqual(first.trials.map(\.order), Array(before.count..<(before.count + 8)))
        XCTAssertTrue(first.trials.allSatisfy { $0.maxAttempts == 2 }, "the run's retry budget applies")
        let after = try store.trials()
        XCTAssertEqual(Array(after.prefix(before.count)), before, "stored trials are untouched")
        XCTAssertEqual(after.count, before.count + 8)

        // Idempotent, also for a stage of the original sweep written in code: 1.0 and 1 are the same parameter.
        let again = try store.appendStages([StageSpec(name: "attack", job: "sum", parameters: ["eps": .int(1)], from: ["train"]),
                                            StageSpec(name: "side", job: "sum")])
        XCTAssertEqual(again, StageAppendResult(added: [], unchanged: ["attack", "side"], trials: []))
        XCTAssertEqual(try store.trials().count, after.count)
        XCTAssertEqual(try store.sweep()?.stages.map(\.name), ["train", "side", "join", "attack", "both"])
        XCTAssertEqual(try store.events().filter { $0.kind == "stages-appended" }.count, 1)
    }

    func testAConflictingDefinitionOrAnUnknownParentIsRejectedAndNothingIsWritten() throws {
        let store = try makeStore()
        try store.appendStages([attack])
        let count = try store.trials().count
        var changed = attack
        changed.parameters["eps"] = .double(2)
        XCTAssertThrowsError(try store.appendStages([StageSpec(name: "fresh", job: "sum"), changed])) { error in
            XCTAssertEqual(error as? StageAppendError, .conflictingDefinition(stage: "attack", store: store.path))
            XCTAssertTrue("\(error)".contains("stage \"attack\""), "\(error)")
        }
        XCTAssertThrowsError(try store.appendStages([StageSpec(name: "orphan", job: "sum", from: ["train", "nowhere"])])) { error in
            XCTAssertEqual(error as? StageAppendError, .invalidStage(stage: "orphan", field: "from[1]", problem: "the run has no stage named \"nowhere\""))
        }
        XCTAssertThrowsError(try store.appendStages([StageSpec(name: "bad name", job: "sum")]))
        XCTAssertEqual(try store.trials().count, count, "a rejected append writes nothing")
        XCTAssertNil(try store.trials().first { $0.spec.stage == "fresh" })
    }

    func testAStoreWrittenBeforeMigrationV2OpensAndKeepsItsTrials() throws {
        let path = directory.appendingPathComponent("old.sqlite").path
        let pool = try DatabasePool(path: path)
        try RunStoreSchema.migrator.migrate(pool, upTo: "v1")
        try pool.write { db in
            try db.execute(sql: "INSERT INTO sweeps(name, spec, spec_hash, created_at) VALUES ('s', ?, 'x', 0)", arguments: [text])
            try db.execute(sql: "INSERT INTO trials(id, stage, job, parameters, seed, parent_trial, ord, state, attempts, max_attempts) VALUES ('train-0000', 'train', 'sum', '{}', 1, NULL, 0, 'done', 1, 2), ('c-0000', 'c', 'sum', '{}', 1, 'train-0000', 1, 'pending', 0, 2)")
        }
        try pool.close()
        let readOnly = try RunStore(path: path, readOnly: true)
        XCTAssertEqual(try readOnly.trials().map(\.spec.parentTrialIDs), [[], ["train-0000"]])
        XCTAssertEqual(try readOnly.sweep()?.stages.count, 3)
        let store = try RunStore(path: path)
        XCTAssertEqual(try store.trials().map(\.spec.parentTrialIDs), [[], ["train-0000"]])
        // The hand-made store holds seed 1 of the sweep's seeds [1, 2] only: the appended stage
        // names that seed, or seed 2 would fan out from train's only trial too.
        var attackSeedOne = attack
        attackSeedOne.seeds = [1]
        XCTAssertEqual(try store.appendStages([attackSeedOne]).trials.map(\.parentTrialIDs), [["train-0000"]])
    }

    /// A stage made in code is held to the parser's seed rules, against the stored trials.
    func testAnAppendedStageWithSeedsItsParentCannotServeIsRefusedAndNothingIsWritten() throws {
        let store = try makeStore()
        let before = try store.trials().count
        XCTAssertThrowsError(try store.appendStages([StageSpec(name: "late", job: "sum", from: ["side"], seeds: [1, 2, 3])])) { error in
            XCTAssertTrue("\(error)".contains("stage \"late\": seeds: seed 3 has no trial of parent stage \"side\""), "\(error)")
        }
        XCTAssertThrowsError(try store.appendStages([StageSpec(name: "none", job: "sum", seeds: [])]))
        XCTAssertEqual(try store.trials().count, before)
        let one = try store.appendStages([StageSpec(name: "once", job: "sum", from: ["side"], seeds: [2])])
        XCTAssertEqual(one.trials.map(\.parentTrialIDs), [["side-0001"]])
    }
}
