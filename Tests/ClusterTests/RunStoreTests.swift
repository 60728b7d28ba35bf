import Foundation
import XCTest
@testable import Cluster

final class RunStoreTests: XCTestCase {
    private var temporary: TemporaryDirectory!
    private var directory: URL { temporary.url }

    override func setUpWithError() throws { temporary = try TemporaryDirectory(prefix: "rt-store") }

    override func tearDown() { temporary.remove() }

    private func makeStore(retries: Int = 1) throws -> RunStore {
        let text = "name: s\nretries: \(retries)\nstages:\n  - {name: a, job: sleep, grid: {i: [1, 2, 3]}}\n"
        let sweep = try SweepParser(file: "s.yaml").parse(text)
        let store = try RunStore(path: directory.appendingPathComponent("rt.sqlite").path)
        try store.createSweep(sweep, text: text, trials: SweepExpander.expand(sweep))
        return store
    }

    func testWalModeAndTrialsWrittenBeforeAnythingRuns() throws {
        let store = try makeStore()
        XCTAssertEqual(try store.counts(), [.pending: 3])
        let mode = try store.pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        XCTAssertEqual(mode, "wal")
        XCTAssertThrowsError(try store.createSweep(SweepSpec(name: "s", seeds: [0], stages: [], retries: 0), text: "", trials: []))
    }

    func testResultIsAcceptedAtMostOnce() throws {
        let store = try makeStore()
        XCTAssertEqual(try store.lease(trialID: "a-0000", worker: "w1", host: "h"), 1)
        XCTAssertNil(try store.lease(trialID: "a-0000", worker: "w2", host: "h"), "a leased trial cannot be leased again")
        XCTAssertEqual(try store.releaseLease(trialID: "a-0000", reason: "w1 died", worker: "w1"), .pending)
        XCTAssertEqual(try store.lease(trialID: "a-0000", worker: "w2", host: "h"), 2)
        // The presumed-dead w1 delivers attempt 1 late: accepted, once.
        XCTAssertEqual(try store.commitResult(trialID: "a-0000", attempt: 1, worker: "w1", host: "h", metrics: ["x": .int(1)],
                                              masks: [("m", Data([1, 0]))], artifact: nil, seconds: 0.1), .accepted)
        XCTAssertEqual(try store.commitResult(trialID: "a-0000", attempt: 2, worker: "w2", host: "h", metrics: ["x": .int(2)],
                                              masks: [], artifact: nil, seconds: 0.1), .alreadyFinal(.done))
        let report = try store.report()
        XCTAssertEqual(report.trials.first { $0.id == "a-0000" }?.metrics, ["x": .int(1)])
        XCTAssertEqual(try store.events(trialID: "a-0000").map(\.kind), ["leased", "requeued", "leased", "done"])
        XCTAssertEqual(try store.masks(trialID: "a-0000"), ["m": Data([1, 0])])
        XCTAssertEqual(try store.events(trialID: "a-0000").filter { $0.kind == "done" }.count, 1)
    }

    func testArtifactIsRecordedWithItsLineageInTheResultTransaction() throws {
        let store = try makeStore()
        _ = try store.lease(trialID: "a-0002", worker: "w", host: "h")
        let reference = ArtifactReference(hash: SHA256.hex(Data("x".utf8)), size: 1, name: "x.bin")
        XCTAssertEqual(try store.commitResult(trialID: "a-0002", attempt: 1, worker: "w", host: "h", metrics: [:], masks: [],
                                              artifact: .init(reference: reference, parentHash: "p", path: "/a/x"), seconds: 0), .accepted)
        let stored = try XCTUnwrap(store.artifact(hash: reference.hash))
        XCTAssertEqual(stored.reference, reference)
        XCTAssertEqual(stored.trialID, "a-0002")
        XCTAssertEqual(stored.parentHash, "p")
        XCTAssertEqual(try store.report().trials.first { $0.id == "a-0002" }?.artifact, reference.hash)
    }

    func testRetryBudgetThenFailedWithReason() throws {
        let store = try makeStore(retries: 1)
        XCTAssertEqual(try store.lease(trialID: "a-0001", worker: "w", host: "h"), 1)
        XCTAssertEqual(try store.releaseLease(trialID: "a-0001", reason: "boom", worker: "w"), .pending)
        XCTAssertEqual(try store.lease(trialID: "a-0001", worker: "w", host: "h"), 2)
        XCTAssertEqual(try store.releaseLease(trialID: "a-0001", reason: "boom again", worker: "w"), .failed)
        let trial = try XCTUnwrap(store.report().trials.first { $0.id == "a-0001" })
        XCTAssertEqual(trial.state, "failed")
        XCTAssertTrue(trial.failure?.contains("boom again") ?? false)
        XCTAssertTrue(trial.failure?.contains("retry budget") ?? false)
    }

    func testResumeRequeuesLeasesAndKeepsResults() throws {
        let store = try makeStore()
        _ = try store.lease(trialID: "a-0000", worker: "w", host: "h")
        _ = try store.lease(trialID: "a-0001", worker: "w", host: "h")
        _ = try store.commitResult(trialID: "a-0000", attempt: 1, worker: "w", host: "h", metrics: [:], masks: [], artifact: nil, seconds: 0)
        let reopened = try RunStore(path: store.path)
        XCTAssertEqual(try reopened.releaseAllLeases(reason: "restart"), 1)
        XCTAssertEqual(try reopened.counts(), [.done: 1, .pending: 2])
    }
}
