import Foundation
import XCTest
@testable import Cluster

/// Readiness and failure of trials with several parents.
final class JoinSchedulingTests: XCTestCase {
    private let join = """
        name: join
        stages:
          - {name: left, job: sum}
          - {name: right, job: sum, grid: {add: [1, 2]}}
          - {name: both, job: sum, from: [left, right]}
        """

    private func scheduler(_ adjust: (inout [TrialRecord]) -> Void = { _ in }) throws -> TrialScheduler {
        let sweep = try SweepParser(file: "s.yaml").parse(join)
        var records = SweepExpander.expand(sweep).map { TrialRecord(spec: $0, state: .pending, attempts: 0) }
        adjust(&records)
        return TrialScheduler(records: records)
    }

    private func finish(_ scheduler: inout TrialScheduler, _ id: String, artifact: String? = "h") -> TrialScheduler.Released {
        scheduler.markLeased(id, attempt: 1, worker: "w", host: "h")
        return scheduler.markDone(id, worker: "w", host: "h", artifactHash: artifact.map { "\($0)-\(id)" })
    }

    func testAJoinIsReadyOnlyWhenEveryParentIsDoneWithAnArtifact() throws {
        var scheduler = try scheduler()
        XCTAssertEqual((0..<3).compactMap { _ in scheduler.popReady()?.spec.id }, ["left-0000", "right-0000", "right-0001"])
        XCTAssertNil(scheduler.popReady())
        XCTAssertEqual(finish(&scheduler, "right-0000"), .init(), "both-0000 still waits for left")
        XCTAssertEqual(finish(&scheduler, "left-0000"), .init(ready: ["both-0000"]), "both-0001 still waits for right-0001")
        XCTAssertEqual(finish(&scheduler, "right-0001"), .init(ready: ["both-0001"]))
        XCTAssertEqual((0..<3).compactMap { _ in scheduler.popReady()?.spec.id }, ["both-0000", "both-0001"], "each is ready once")
    }

    func testAFailedSecondParentDoomsTheJoinsWaitingOnItNamingIt() throws {
        var scheduler = try scheduler()
        _ = finish(&scheduler, "left-0000")
        scheduler.markLeased("right-0001", attempt: 1, worker: "w", host: "h")
        XCTAssertEqual(scheduler.markFailed("right-0001", reason: "boom"), ["both-0001"])
        // The caller fails both-0001; left's completion must not make it ready later.
        XCTAssertEqual(scheduler.markFailed("both-0001", reason: "parent trial right-0001 failed"), [])
        XCTAssertEqual(finish(&scheduler, "right-0000"), .init(ready: ["both-0000"]))
    }

    func testAParentWithoutAnArtifactDoomsTheJoinNamingThatParent() throws {
        var scheduler = try scheduler()
        _ = finish(&scheduler, "left-0000")
        XCTAssertEqual(finish(&scheduler, "right-0000", artifact: nil),
                       .init(doomed: [.init(id: "both-0000", reason: "parent trial right-0000 produced no artifact")]))
    }

    func testRebuiltFromTheStoreAJoinWithOneFailedParentIsDoomedAndOneWithBothDoneIsReady() throws {
        var scheduler = try scheduler { records in
            for index in records.indices where records[index].spec.stage != "both" {
                records[index].state = .done
                records[index].artifactHash = "h-\(records[index].spec.id)"
            }
            let failed = records.firstIndex { $0.spec.id == "right-0001" }!
            records[failed].state = .failed
            records[failed].artifactHash = nil
        }
        XCTAssertEqual(scheduler.doomed(), [.init(id: "both-0001", reason: "parent trial right-0001 failed")])
        XCTAssertEqual(scheduler.popReady()?.spec.id, "both-0000")
        XCTAssertTrue(scheduler.hasSeveralParents)
    }
}
