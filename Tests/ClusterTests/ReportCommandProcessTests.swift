import Foundation
import XCTest
@testable import Cluster

/// `rt report` as a user runs it: every format on a small study store, and clear failures
/// for paths that are not run directories. (The statistics are tested in ReportsTests.)
final class ReportCommandProcessTests: XCTestCase {
    private var harness: ProcessHarness!

    override func setUpWithError() throws {
        _ = try ProcessHarness.rtBinary()
        harness = try ProcessHarness(testName: name.filter { $0.isLetter || $0.isNumber })
    }

    override func tearDown() {
        let failed = (testRun?.failureCount ?? 0) > 0
        if failed { print(harness.logs()) }
        harness.tearDown(keepOnFailure: failed)
    }

    /// One seed of standard and finetune done with study metrics (docs/STUDY.md); dm failed.
    private func studyRun() throws -> URL {
        let directory = harness.runs.appendingPathComponent("study")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let text = "name: study\nseeds: [1]\nretries: 0\nstages:\n  - {name: standard, job: standard}\n  - {name: finetune, job: finetune}\n  - {name: dm, job: dm}\n"
        let sweep = try SweepParser(file: "study.yaml").parse(text)
        let store = try RunStore(path: RunStore.url(runDirectory: directory).path)
        try store.createSweep(sweep, text: text, trials: SweepExpander.expand(sweep))
        for (stage, clean, robust) in [("standard", 0.5, 0.3), ("finetune", 0.7, 0.2)] {
            let id = "\(stage)-0000"
            let attempt = try XCTUnwrap(store.lease(trialID: id, worker: "w1", host: "h1"))
            let attack: JSONValue = .object(["attack": .string("pgd"), "norm": .string("linf"), "eps": .double(8.0 / 255),
                                             "eps_label": .string("8/255"), "steps": .int(10), "robust_accuracy": .double(robust)])
            let metrics: [String: JSONValue] = ["role": .string(stage), "task": .string("fashion-mnist[5-9]"), "model": .string("small-cnn"),
                                                "clean_accuracy": .double(clean), "attacks": .array([attack])]
            XCTAssertEqual(try store.commitResult(trialID: id, attempt: attempt, worker: "w1", host: "h1", metrics: metrics,
                                                  masks: [], artifact: nil, seconds: 2), .accepted)
        }
        _ = try store.lease(trialID: "dm-0000", worker: "w1", host: "h1")
        XCTAssertEqual(try store.releaseLease(trialID: "dm-0000", reason: "boom", worker: "w1"), .failed)
        return directory
    }

    private func report(_ arguments: [String]) throws -> (status: Int32?, output: String) {
        let process = try harness.spawn("report-\(harness.processes.count)", ["report"] + arguments)
        return (process.waitForExit(timeout: 60), process.logText())
    }

    func testEveryFormatRendersTheStore() throws {
        let run = try studyRun().path
        let markdown = try report([run])
        XCTAssertEqual(markdown.status, 0, markdown.output)
        XCTAssertTrue(markdown.output.hasPrefix("# Study report: study"), "markdown is the default: \(markdown.output)")
        XCTAssertTrue(markdown.output.contains("| finetune | 1 | 0.700 (n = 1, no CI) | 0.200 (n = 1, no CI) |"), markdown.output)
        XCTAssertTrue(markdown.output.contains("| dm-0000 | dm | failed | 1 |"), markdown.output)

        let page = harness.directory.appendingPathComponent("report.html")
        let html = try report([run, "--format", "html", "--output", page.path])
        XCTAssertEqual(html.status, 0, html.output)
        XCTAssertEqual(html.output, "", "--output writes the file, not standard output")
        let written = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(written.hasPrefix("<!DOCTYPE html>") && written.contains("<svg") && written.hasSuffix("</html>\n"))

        let csv = try report([run, "--format", "csv"])
        XCTAssertEqual(csv.status, 0, csv.output)
        XCTAssertTrue(csv.output.hasPrefix("section,task,model,stage,"), csv.output)

        let json = try report([run, "--format", "json"])
        XCTAssertEqual(json.status, 0, json.output)
        let study = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        XCTAssertEqual((study["groups"] as? [Any])?.count, 2)
        XCTAssertEqual((study["paired_differences"] as? [Any])?.count, 2, "finetune − standard: clean and PGD")

        let trials = try report([run, "--format", "trials-json"])
        XCTAssertEqual(trials.status, 0, trials.output)
        let stored = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(trials.output.utf8)) as? [String: Any])
        XCTAssertEqual((stored["trials"] as? [Any])?.count, 3)

        let text = try report([run, "--format", "text"])
        XCTAssertTrue(text.output.contains("dm-0000\tfailed\t1\t"), text.output)
        let events = try report([run, "--events"])
        XCTAssertTrue(events.output.contains("\tdone\tstandard-0000\tw1\t"), events.output)
    }

    func testPathsThatAreNotRunDirectoriesFailNamingThePath() throws {
        let missing = harness.directory.appendingPathComponent("no-such-run").path
        let noRun = try report([missing])
        XCTAssertNotEqual(noRun.status, 0)
        XCTAssertTrue(noRun.output.contains("\(missing): no such run directory"), noRun.output)

        let empty = harness.runs.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let noStore = try report([empty.path, "--format", "html"])
        XCTAssertNotEqual(noStore.status, 0)
        XCTAssertTrue(noStore.output.contains("\(empty.path)/rt.sqlite: does not exist"), noStore.output)

        try Data("not a database".utf8).write(to: RunStore.url(runDirectory: empty))
        let garbage = try report([empty.path])
        XCTAssertNotEqual(garbage.status, 0)
        XCTAssertTrue(garbage.output.contains("rt.sqlite: not a run store"), garbage.output)
    }
}
