import Foundation
import XCTest
@testable import Cluster

final class JobCensusTests: XCTestCase {
    private let start = Date(timeIntervalSince1970: 1000)
    private let needed: [String: Set<String>] = ["sum": ["add"], "sleep": ["nap"], "train": ["big", "small"]]

    /// The wait starts at the first registration; what no worker runs is listed, said once, and
    /// settled once when the wait is over.
    func testMissingJobTypesAreSaidOnceAndSettledOnceAfterTheWait() {
        var census = JobCensus()
        XCTAssertFalse(census.isDue(start.addingTimeInterval(1000)), "no worker yet: no wait running")
        census.register(worker: "a", jobs: ["sum"], now: start, wait: 30)
        XCTAssertEqual(census.missing(needed), ["sleep", "train"])
        XCTAssertEqual(census.unsaid(census.missing(needed)), ["sleep", "train"])
        census.register(worker: "b", jobs: ["sleep"], now: start.addingTimeInterval(5), wait: 30)
        XCTAssertEqual(census.found(), ["sleep"], "a job said missing that a worker now runs")
        XCTAssertEqual(census.unsaid(census.missing(needed)), [], "train was said already")
        XCTAssertFalse(census.settle(now: start.addingTimeInterval(29)), "the wait counts from the first registration")
        XCTAssertTrue(census.settle(now: start.addingTimeInterval(30)))
        XCTAssertFalse(census.settle(now: start.addingTimeInterval(31)), "once")
        XCTAssertEqual(census.missing(needed), ["train"])
    }

    func testAWorkerThatListsNoJobTypesMayRunAnything() {
        var census = JobCensus()
        census.register(worker: "a", jobs: ["sum"], now: start, wait: 0)
        census.register(worker: "old", jobs: nil, now: start, wait: 0)
        XCTAssertEqual(census.missing(needed), [], "an older worker may run any of them")
    }

    func testWhatWorkersRunIsGroupedByJobTypes() {
        var census = JobCensus()
        for name in ["gpu-1", "gpu-2", "gpu-3", "gpu-4"] { census.register(worker: name, jobs: ["train"], now: start, wait: 0) }
        census.register(worker: "cpu", jobs: ["sum", "sleep"], now: start, wait: 0)
        census.register(worker: "cpu", jobs: ["sum", "sleep"], now: start, wait: 0) // reconnected
        census.register(worker: "idle", jobs: [], now: start, wait: 0)
        XCTAssertEqual(census.offeringsText, "gpu-1, gpu-2, gpu-3 and 1 more run train; cpu runs sleep, sum; idle runs no job type")
    }
}
