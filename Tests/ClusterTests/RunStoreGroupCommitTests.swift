import Foundation
import GRDB
import XCTest
@testable import Cluster

/// Group commit (`RunStore.batch`): many state changes, one transaction, each change still
/// all-or-nothing on its own.
final class RunStoreGroupCommitTests: XCTestCase {
    private var temporary: TemporaryDirectory!

    override func setUpWithError() throws { temporary = try TemporaryDirectory(prefix: "rt-store-batch") }
    override func tearDown() { temporary.remove() }

    private func store() throws -> RunStore {
        let text = "name: s\nstages:\n  - {name: a, job: sleep, grid: {i: [1, 2, 3, 4]}}\n"
        let sweep = try SweepParser(file: "s.yaml").parse(text)
        let store = try RunStore(path: temporary.url.appendingPathComponent("\(UUID().uuidString).sqlite").path)
        try store.createSweep(sweep, text: text, trials: SweepExpander.expand(sweep))
        return store
    }

    private func states(_ store: RunStore) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try store.trials().map { ($0.spec.id, $0.state.rawValue) })
    }

    func testABatchCommitsEveryChangeAndReadsItsOwnWrites() throws {
        let store = try store()
        let seenInside = try store.batch { () -> [String: String] in
            XCTAssertEqual(try store.lease(trialID: "a-0000", worker: "w", host: "h"), 1)
            XCTAssertEqual(try store.lease(trialID: "a-0001", worker: "w", host: "h"), 1)
            XCTAssertEqual(try store.commitResult(trialID: "a-0000", attempt: 1, worker: "w", host: "h", metrics: [:],
                                                  masks: [], artifact: nil, seconds: 0), .accepted)
            return try states(store)
        }
        let expected = ["a-0000": "done", "a-0001": "leased", "a-0002": "pending", "a-0003": "pending"]
        XCTAssertEqual(seenInside, expected, "inside the batch, reads see its changes")
        XCTAssertEqual(try states(store), expected, "after it, every change is committed")
        XCTAssertEqual(try RunStore(path: store.path).trials().filter { $0.state == .done }.count, 1, "and visible to another connection")
    }

    func testAChangeThatFailsIsUndoneAloneAndTheBatchStillCommits() throws {
        let store = try store()
        struct Refused: Error {}
        XCTAssertThrowsError(try store.batch {
            try store.lease(trialID: "a-0000", worker: "w", host: "h")
            // A change that fails half-way: its first statement is rolled back with it.
            XCTAssertThrowsError(try store.write { db in
                try db.execute(sql: "UPDATE trials SET state = 'failed' WHERE id = 'a-0001'")
                throw Refused()
            })
            try store.lease(trialID: "a-0002", worker: "w", host: "h")
            throw Refused() // the body's own error reaches the caller after the commit
        }) { XCTAssertTrue($0 is Refused, "\($0)") }
        XCTAssertEqual(try states(store), ["a-0000": "leased", "a-0001": "pending", "a-0002": "leased", "a-0003": "pending"])
    }

    func testAnotherThreadsChangeWaitsForTheBatchInsteadOfJoiningIt() throws {
        let store = try store()
        let started = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
        try store.batch {
            try store.lease(trialID: "a-0000", worker: "w", host: "h")
            Thread.detachNewThread {
                started.signal()
                _ = try? store.lease(trialID: "a-0001", worker: "other", host: "h")
                finished.signal()
            }
            started.wait()
            // The other thread cannot write until this batch commits (bounded wait, no timing assertion).
            XCTAssertEqual(finished.wait(timeout: .now() + 0.3), .timedOut)
        }
        XCTAssertEqual(finished.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(try states(store)["a-0001"], "leased")
    }
}
