import Foundation
import XCTest
@testable import Cluster

final class SweepParserTests: XCTestCase {
    private func parse(_ text: String) throws -> SweepSpec { try SweepParser(file: "s.yaml").parse(text) }

    /// With `existing`, `text` is an appendix to a run that has those stages.
    func assertError(_ text: String, line: Int, key: String, mentions: String, existing: [String]? = nil,
                     file: StaticString = #filePath, lineNumber: UInt = #line) {
        let parser = SweepParser(file: "s.yaml")
        XCTAssertThrowsError(try existing.map { try parser.parseAppendix(text, existing: $0) } ?? parser.parse(text).stages,
                             file: file, line: lineNumber) { error in
            guard let error = error as? SweepError else { return XCTFail("not a SweepError: \(error)", file: file, line: lineNumber) }
            XCTAssertEqual(error.line, line, "\(error)", file: file, line: lineNumber)
            XCTAssertEqual(error.key, key, "\(error)", file: file, line: lineNumber)
            XCTAssertTrue(error.description.contains(mentions), "\(error)", file: file, line: lineNumber)
            XCTAssertTrue(error.description.hasPrefix("s.yaml:\(line):"), "\(error)", file: file, line: lineNumber)
        }
    }

    func testToy100ExpandsToOneHundredSleepTrials() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("cluster/sweeps/toy-100.yaml")
        let (sweep, _) = try SweepParser.parse(contentsOf: url)
        let trials = SweepExpander.expand(sweep)
        XCTAssertEqual(trials.count, 100)
        XCTAssertEqual(Set(trials.map(\.id)).count, 100)
        XCTAssertTrue(trials.allSatisfy { $0.job == "sleep" && $0.parameters["seconds"] == .double(0.2) && $0.maxAttempts == 3 })
    }

    func testGridRandomSeedsAndDependenciesExpand() throws {
        let sweep = try parse("""
            name: dag
            seeds: [1, 2]
            stages:
              - name: pre
                job: sum
                grid: {a: [1, 2, 3], b: [x, y]}
              - name: fine
                job: sum
                from: pre
                retries: 0
                parameters: {fixed: true}
                random:
                  count: 4
                  seed: 11
                  axes:
                    lr: {log_uniform: [0.0001, 0.1]}
                    mix: {uniform: [0, 1]}
                    opt: {choice: [sgd, adam]}
            """)
        let trials = SweepExpander.expand(sweep)
        let pre = trials.filter { $0.stage == "pre" }, fine = trials.filter { $0.stage == "fine" }
        XCTAssertEqual(pre.count, 2 * 3 * 2)
        XCTAssertEqual(fine.count, pre.count * 4)
        XCTAssertTrue(fine.allSatisfy { $0.maxAttempts == 1 && $0.parameters["fixed"] == .bool(true) })
        for trial in fine {
            let parent = try XCTUnwrap(pre.first { $0.id == trial.parentTrialID })
            XCTAssertEqual(trial.seed, parent.seed, "dependants inherit the seed of their parent")
            let lr = try XCTUnwrap(trial.parameters["lr"]?.doubleValue)
            XCTAssertTrue(lr >= 0.0001 && lr <= 0.1)
            XCTAssertTrue(["sgd", "adam"].contains(trial.parameters["opt"]?.stringValue ?? ""))
        }
        XCTAssertEqual(SweepExpander.expand(sweep), trials, "expansion is deterministic")
    }

    func testRangeAxis() throws {
        let sweep = try parse("name: r\nstages:\n  - {name: s, job: sleep, grid: {i: {range: [0, 10, 3]}}}\n")
        XCTAssertEqual(SweepExpander.expand(sweep).map { $0.parameters["i"] }, [.int(0), .int(3), .int(6), .int(9)])
    }

    func testReplicasGoFromStageToTrials() throws {
        let sweep = try parse("name: r\nstages:\n  - {name: a, job: train, replicas: 3}\n  - {name: b, job: sleep, from: a}\n")
        XCTAssertEqual(SweepExpander.expand(sweep).map(\.replicas), [3, 1])
        assertError("name: x\nstages:\n  - name: a\n    job: train\n    replicas: 0\n", line: 5, key: "stages[0].replicas", mentions: "1...256")
    }

    func testErrorsNameLineAndKey() {
        assertError("stages: []\n", line: 1, key: "name", mentions: "missing")
        assertError("name: x\nstages:\n  - name: a\n    job: sleep\n    gird: {a: [1]}\n", line: 5, key: "stages[0].gird", mentions: "unknown key")
        assertError("name: x\nstages:\n  - name: a\n    job: sleep\n    grid:\n      lr: 0.1\n", line: 6, key: "stages[0].grid.lr", mentions: "expected a list")
        assertError("name: x\nstages:\n  - name: a\n    job: sleep\n  - name: b\n    job: sleep\n    from: c\n", line: 7, key: "stages[1].from", mentions: "no earlier stage")
        assertError("name: x\nstages:\n  - name: a\n    job: sleep\n    random:\n      count: 3\n      axes:\n        lr: {log_uniform: [0, 1]}\n",
                    line: 8, key: "stages[0].random.axes.lr.log_uniform", mentions: "low > 0")
        assertError("name: x\nseeds: [1, two]\nstages:\n  - {name: a, job: sleep}\n", line: 2, key: "seeds[1]", mentions: "whole number")
        assertError("name: x\nstages:\n  - name: a\n    job: sleep\n  - name: a\n    job: sleep\n", line: 5, key: "stages[1].name", mentions: "already exists")
        assertError("name: x\nstages:\n  - name: a\n    job: sleep\n    parameters: {lr: 1}\n    grid: {lr: [1, 2]}\n", line: 6, key: "stages[0].grid.lr", mentions: "fixed parameter")
        assertError("name: x\nstages:\n  - name: a\n    job: [sleep\n", line: 5, key: "(syntax)", mentions: "expected")
    }
}
