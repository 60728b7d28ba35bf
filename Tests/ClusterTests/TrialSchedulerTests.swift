import Foundation
import XCTest
@testable import Cluster

final class TrialSchedulerTests: XCTestCase {
    private func records(_ text: String) throws -> [TrialRecord] {
        let sweep = try SweepParser(file: "s.yaml").parse(text)
        return SweepExpander.expand(sweep).map { TrialRecord(spec: $0, state: .pending, attempts: 0) }
    }

    private let dag = """
        name: dag
        stages:
          - {name: pre, job: sum, grid: {a: [1, 2]}}
          - {name: fine, job: sum, from: pre, grid: {b: [1, 2, 3]}}
        """

    func testChildrenBecomeReadyWhenTheirParentIsDoneWithAnArtifact() throws {
        var scheduler = TrialScheduler(records: try records(dag))
        XCTAssertEqual(scheduler.popReady()?.spec.id, "pre-0000")
        XCTAssertEqual(scheduler.popReady()?.spec.id, "pre-0001")
        XCTAssertNil(scheduler.popReady(), "fine-* wait for their parents")
        scheduler.markLeased("pre-0000", attempt: 1, worker: "w", host: "h")
        let released = scheduler.markDone("pre-0000", worker: "w", host: "h", artifactHash: "h0")
        XCTAssertEqual(released.ready, ["fine-0000", "fine-0001", "fine-0002"])
        XCTAssertEqual((0..<3).compactMap { _ in scheduler.popReady()?.spec.id }, ["fine-0000", "fine-0001", "fine-0002"])
        XCTAssertFalse(scheduler.isFinished)
    }

    func testFailedParentHandsBackItsWaitingChildrenAndRequeuesGoFirst() throws {
        var scheduler = TrialScheduler(records: try records(dag))
        _ = scheduler.popReady(); _ = scheduler.popReady()
        scheduler.markLeased("pre-0001", attempt: 1, worker: "w", host: "h")
        XCTAssertEqual(scheduler.markFailed("pre-0001", reason: "boom"), ["fine-0003", "fine-0004", "fine-0005"])
        scheduler.markLeased("pre-0000", attempt: 1, worker: "w", host: "h")
        scheduler.markPending("pre-0000", reason: "worker lost")
        XCTAssertEqual(scheduler.popReady()?.spec.id, "pre-0000", "a requeued trial is leased next")
    }

    func testRebuiltFromAStoreWithAFailedParentDoomsItsChildren() throws {
        var list = try records(dag)
        list[1].state = .failed
        list[0].state = .done   // done but no artifact
        let scheduler = TrialScheduler(records: list)
        XCTAssertEqual(scheduler.doomed().map(\.id), (0..<6).map { String(format: "fine-%04d", $0) })
    }

    private func session(_ name: String, credits: Int, jobs: [String]? = nil) -> WorkerSession {
        let registration = RegisterMessage(workerID: name, name: name, host: "h", pid: 1, threads: 1, version: "v", jobs: jobs)
        let s = WorkerSession(routingID: Data(name.utf8), registration: registration, keyName: nil, now: Date())
        s.credits = credits
        return s
    }

    func testGangsTakeDistinctFreeWorkersOrWait() {
        let all = [session("a", credits: 1), session("b", credits: 0), session("c", credits: 2), session("d", credits: 1)]
        let sessions = Dictionary(uniqueKeysWithValues: all.map { ($0.routingID, $0) })
        let order = all.map(\.routingID)
        let gang = TrialScheduler.gangMembers(2, job: "train", first: Data("c".utf8), order: order, sessions: sessions)
        XCTAssertEqual(gang?.map(\.name), ["c", "d"], "round-robin from the asking worker, one replica per worker")
        XCTAssertEqual(TrialScheduler.gangMembers(3, job: "train", first: Data("a".utf8), order: order, sessions: sessions)?.map(\.name), ["a", "c", "d"])
        XCTAssertNil(TrialScheduler.gangMembers(4, job: "train", first: Data("a".utf8), order: order, sessions: sessions), "b has no free slot: the gang waits")
    }

    func testGangsTakeOnlyWorkersThatRunTheirJob() {
        let all = [session("a", credits: 1, jobs: ["train"]), session("b", credits: 1, jobs: ["sum"]), session("c", credits: 1),
                   session("d", credits: 1, jobs: ["sum", "train"])]
        let sessions = Dictionary(uniqueKeysWithValues: all.map { ($0.routingID, $0) })
        let order = all.map(\.routingID)
        XCTAssertEqual(TrialScheduler.gangMembers(3, job: "train", first: Data("a".utf8), order: order, sessions: sessions)?.map(\.name), ["a", "c", "d"],
                       "b does not run train; c, an older worker that lists no job types, may run anything")
        XCTAssertNil(TrialScheduler.gangMembers(4, job: "train", first: Data("a".utf8), order: order, sessions: sessions))
    }

    private let twoJobs = """
        name: mixed
        stages:
          - {name: nap, job: sleep, grid: {i: [1, 2, 3]}}
          - {name: add, job: sum, grid: {i: [1, 2]}}
          - {name: more, job: sleep, grid: {i: [1]}}
        """

    /// A worker that runs every job type is leased trials in expansion order across job types,
    /// a requeued trial first; one that runs some job types gets only those, in the same order.
    func testReadyTrialsKeepOneOrderAcrossJobTypesAndGoOnlyToWorkersThatRunThem() throws {
        var scheduler = TrialScheduler(records: try records(twoJobs))
        XCTAssertEqual(scheduler.popReady(runnableBy: ["sum"])?.spec.id, "add-0000")
        XCTAssertEqual(scheduler.popReady(runnableBy: ["crash"])?.spec.id, nil, "no ready trial of a job type it runs")
        XCTAssertEqual(scheduler.popReady()?.spec.id, "nap-0000")
        scheduler.markLeased("nap-0000", attempt: 1, worker: "w", host: "h")
        scheduler.markPending("nap-0000", reason: "worker lost")
        scheduler.markLeased("add-0000", attempt: 1, worker: "w", host: "h")
        scheduler.markPending("add-0000", reason: "worker lost")
        XCTAssertEqual((0..<7).compactMap { _ in scheduler.popReady(runnableBy: ["sleep", "sum"])?.spec.id },
                       ["add-0000", "nap-0000", "nap-0001", "nap-0002", "add-0001", "more-0000"],
                       "the last requeued first, then expansion order whatever the job type")
        XCTAssertFalse(scheduler.hasReady)
    }

    func testStagesStillToRunAreListedByJobType() throws {
        var scheduler = TrialScheduler(records: try records(twoJobs))
        XCTAssertEqual(scheduler.unfinishedStages(), ["sleep": ["nap", "more"], "sum": ["add"]])
        for id in ["add-0000", "add-0001"] {
            scheduler.markLeased(id, attempt: 1, worker: "w", host: "h")
            scheduler.markDone(id, worker: "w", host: "h", artifactHash: nil)
        }
        XCTAssertEqual(scheduler.unfinishedStages(), ["sleep": ["nap", "more"]])
        XCTAssertEqual(scheduler.pendingTrials(ofStage: "nap"), ["nap-0000", "nap-0001", "nap-0002"])
    }
}
