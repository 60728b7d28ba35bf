import Foundation
import GRDB
import XCTest
@testable import Cluster

/// A store whose rows were edited into impossible values (issue 13): every read for reports
/// and resume is an error naming the table, the row and the column, never a GRDB fatal error,
/// a trial that waits forever or parameters read as `{}`.
final class RunStoreRowTests: XCTestCase {
    private var temporary: TemporaryDirectory!

    override func setUpWithError() throws { temporary = try TemporaryDirectory(prefix: "rt-store-rows") }
    override func tearDown() { temporary.remove() }

    /// A store with trials a-0000...a-0002, trial a-0001 done with metrics, then `edit` run on it
    /// (CHECK constraints off, as a hand edit or another tool might leave them).
    private func store(editing edit: String) throws -> RunStore {
        let text = "name: s\nstages:\n  - {name: a, job: sleep, grid: {i: [1, 2, 3]}}\n"
        let sweep = try SweepParser(file: "s.yaml").parse(text)
        let path = temporary.url.appendingPathComponent("\(UUID().uuidString).sqlite").path
        let store = try RunStore(path: path)
        try store.createSweep(sweep, text: text, trials: SweepExpander.expand(sweep))
        try store.lease(trialID: "a-0001", worker: "w", host: "h")
        _ = try store.commitResult(trialID: "a-0001", attempt: 1, worker: "w", host: "h", metrics: ["loss": .double(0.5)],
                                   masks: [], artifact: nil, seconds: 1)
        try store.pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: edit)
            try db.execute(sql: "PRAGMA ignore_check_constraints = OFF")
        }
        return store
    }

    private func assertReadsFail(_ edit: String, mentions: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let store = try store(editing: edit)
        for (what, read) in [("trials", { _ = try store.trials() }), ("report", { _ = try store.report() })] as [(String, () throws -> Void)] {
            XCTAssertThrowsError(try read(), what, file: file, line: line) { error in
                XCTAssertTrue(error is StoreError, "\(what): \(error)", file: file, line: line)
                XCTAssertTrue("\(error)".contains(mentions), "\(what): \(error)", file: file, line: line)
            }
        }
    }

    func testANonNumericAttemptsNamesTheRowAndColumn() throws {
        try assertReadsFail("UPDATE trials SET attempts = 'many' WHERE id = 'a-0002'",
                            mentions: "table trials, row a-0002, column attempts: 'many' is not a whole number")
    }

    func testANonNumericSeedNamesTheRowAndColumn() throws {
        try assertReadsFail("UPDATE trials SET seed = 'x1' WHERE id = 'a-0000'", mentions: "table trials, row a-0000, column seed: 'x1' is not a whole number")
    }

    func testAnUnknownStateIsAnErrorNotAPendingTrial() throws {
        try assertReadsFail("UPDATE trials SET state = 'paused' WHERE id = 'a-0000'",
                            mentions: "table trials, row a-0000, column state: 'paused' is not a trial state")
        XCTAssertThrowsError(try store(editing: "UPDATE trials SET state = 'paused' WHERE id = 'a-0002'").counts()) { error in
            XCTAssertTrue("\(error)".contains("table trials, row a-0002, column state: 'paused' is not a trial state"), "\(error)")
        }
    }

    func testNonJSONParametersAreAnErrorNotEmpty() throws {
        try assertReadsFail("UPDATE trials SET parameters = '{i: 1' WHERE id = 'a-0001'",
                            mentions: "table trials, row a-0001, column parameters: '{i: 1' is not a JSON object")
        try assertReadsFail("UPDATE trials SET parameters = '[1, 2]' WHERE id = 'a-0001'", mentions: "column parameters")
    }

    func testNonJSONMetricsAreAnErrorInTheReport() throws {
        let store = try store(editing: "UPDATE results SET metrics = 'loss=0.5' WHERE trial_id = 'a-0001'")
        XCTAssertNoThrow(try store.trials(), "resume does not read results")
        XCTAssertThrowsError(try store.report()) { error in
            XCTAssertTrue("\(error)".contains("table results, row a-0001, column metrics: 'loss=0.5' is not a JSON object"), "\(error)")
        }
    }

    func testABlobWhereTextBelongsIsAnError() throws {
        try assertReadsFail("UPDATE trials SET stage = x'00ff' WHERE id = 'a-0000'", mentions: "row a-0000, column stage: a 2-byte blob is not text")
    }

    func testAnIntactStoreStillReads() throws {
        let store = try store(editing: "SELECT 1")
        XCTAssertEqual(try store.trials().map(\.state), [.pending, .done, .pending])
        XCTAssertEqual(try store.report().trials[1].metrics, ["loss": .double(0.5)])
        XCTAssertEqual(try store.counts(), [.pending: 2, .done: 1])
    }
}
