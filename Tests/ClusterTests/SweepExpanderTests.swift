import Foundation
import XCTest
@testable import Cluster

/// Several parents: the first parent's trials times the other parents' trials of the same seed.
final class SweepExpanderTests: XCTestCase {
    private func expand(_ text: String) throws -> [TrialSpec] {
        SweepExpander.expand(try SweepParser(file: "s.yaml").parse(text))
    }

    func testJoinPairsEachFirstParentTrialWithTheOtherParentsTrialOfTheSameSeed() throws {
        let trials = try expand("""
            name: join
            seeds: [1, 2]
            stages:
              - {name: left, job: sum, grid: {values: [[1], [2]]}}
              - {name: right, job: sum}
              - {name: join, job: sum, from: [left, right]}
            """)
        let join = trials.filter { $0.stage == "join" }
        // left: seed 1 x 2 points, seed 2 x 2 points; right: one per seed.
        XCTAssertEqual(join.map(\.parentTrialIDs), [
            ["left-0000", "right-0000"], ["left-0001", "right-0000"],
            ["left-0002", "right-0001"], ["left-0003", "right-0001"],
        ])
        XCTAssertEqual(join.map(\.seed), [1, 1, 2, 2])
        XCTAssertEqual(join.map(\.parentTrialID), ["left-0000", "left-0001", "left-0002", "left-0003"], "the first parent is the lineage parent")
    }

    func testSeveralTrialsOfTheSameSeedRunOncePerCombinationLastParentFastest() throws {
        let sweep = """
            name: combos
            seeds: [5]
            stages:
              - {name: a, job: sum}
              - {name: b, job: sum, grid: {add: [1, 2]}}
              - {name: c, job: sum, grid: {add: [3, 4, 5]}}
              - {name: j, job: sum, from: [a, b, c], grid: {k: [x, y]}}
            """
        let trials = try expand(sweep)
        let join = trials.filter { $0.stage == "j" }
        XCTAssertEqual(join.count, 1 * 2 * 3 * 2)
        let expectedParents = ["b-0000", "b-0001"].flatMap { b in ["c-0000", "c-0001", "c-0002"].map { ["a-0000", b, $0] } }
        XCTAssertEqual(join.map(\.parentTrialIDs), expectedParents.flatMap { [$0, $0] }, "grid varies fastest within a combination")
        XCTAssertEqual(join.map { $0.parameters["k"] }, Array(repeating: [JSONValue.string("x"), .string("y")], count: 6).flatMap { $0 })
        XCTAssertEqual(join.map(\.id), (0..<12).map { String(format: "j-%04d", $0) })
        XCTAssertEqual(join.map(\.order), Array(6..<18), "orders follow the earlier stages")
        XCTAssertEqual(try expand(sweep), trials, "expansion is deterministic")
    }

    func testSingleParentIsUnchanged() throws {
        let trials = try expand("name: one\nseeds: [1, 2]\nstages:\n  - {name: a, job: sum}\n  - {name: b, job: sum, from: a, grid: {add: [1, 2]}}\n")
        XCTAssertEqual(trials.filter { $0.stage == "b" }.map(\.parentTrialIDs), [["a-0000"], ["a-0000"], ["a-0001"], ["a-0001"]])
        XCTAssertTrue(trials.filter { $0.stage == "a" }.allSatisfy { $0.parentTrialIDs.isEmpty && $0.parentTrialID == nil })
    }

    func testStagesExpandedAfterStoredTrialsContinueTheirOrderAndUseThem() throws {
        let sweep = try SweepParser(file: "s.yaml").parse("name: s\nseeds: [1, 2]\nstages:\n  - {name: a, job: sum, grid: {add: [1, 2]}}\n")
        let existing = SweepExpander.expand(sweep)
        let appended = SweepExpander.expand([StageSpec(name: "eval", job: "sum", from: ["a"])], after: existing,
                                            seeds: sweep.seeds, retries: 0)
        XCTAssertEqual(appended.map(\.id), ["eval-0000", "eval-0001", "eval-0002", "eval-0003"])
        XCTAssertEqual(appended.map(\.parentTrialID), existing.map(\.id))
        XCTAssertEqual(appended.map(\.seed), existing.map(\.seed))
        XCTAssertEqual(appended.map(\.order), [4, 5, 6, 7])
        XCTAssertTrue(appended.allSatisfy { $0.maxAttempts == 1 })
    }

    func testToyJoinSweepJoinsEveryLeftTrialWithTheRightTrialsOfItsSeed() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("cluster/sweeps/toy-join.yaml")
        let (sweep, _) = try SweepParser.parse(contentsOf: url)
        let trials = SweepExpander.expand(sweep)
        let byID = Dictionary(uniqueKeysWithValues: trials.map { ($0.id, $0) })
        let join = trials.filter { $0.stage == "join" }
        XCTAssertFalse(join.isEmpty)
        for trial in join {
            XCTAssertEqual(trial.parentTrialIDs.map { byID[$0]?.stage }, ["left", "right"])
            XCTAssertTrue(trial.parentTrialIDs.allSatisfy { byID[$0]?.seed == trial.seed })
        }
        let left = trials.filter { $0.stage == "left" }, right = trials.filter { $0.stage == "right" }
        XCTAssertEqual(join.count, left.count * right.count / sweep.seeds.count)
    }

    /// `count` (what launchers print after their check) agrees with what `expand` builds, for
    /// every preset: roots, joins, grids and random axes.
    func testCountingWithoutExpandingMatchesTheExpansionOfEveryPreset() throws {
        let presets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("cluster/sweeps")
        let files = try FileManager.default.contentsOfDirectory(atPath: presets.path).filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertGreaterThan(files.count, 5)
        for file in files {
            let (sweep, _) = try SweepParser.parse(contentsOf: presets.appendingPathComponent(file))
            XCTAssertEqual(SweepExpander.count(sweep), SweepExpander.expand(sweep).count, file)
        }
    }
}
