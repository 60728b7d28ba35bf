import Foundation
import XCTest
@testable import Cluster

/// One pre-training, many fine-tunes: a stage's own `seeds:` and the fan-out of a child stage
/// whose parent has fewer seeds (`StageSeeds`).
final class SeedFanOutTests: XCTestCase {
    private func parse(_ text: String) throws -> SweepSpec { try SweepParser(file: "s.yaml").parse(text) }

    private func assertError(_ text: String, line: Int, key: String, mentions: String, file: StaticString = #filePath, lineNumber: UInt = #line) {
        XCTAssertThrowsError(try parse(text), file: file, line: lineNumber) { error in
            guard let error = error as? SweepError else { return XCTFail("not a SweepError: \(error)", file: file, line: lineNumber) }
            XCTAssertEqual(error.line, line, "\(error)", file: file, line: lineNumber)
            XCTAssertEqual(error.key, key, "\(error)", file: file, line: lineNumber)
            XCTAssertTrue(error.description.contains(mentions), "\(error)", file: file, line: lineNumber)
        }
    }

    func testOneSourceFansOutToEveryTargetSeedAndTheLineageNamesIt() throws {
        let sweep = try parse("""
            name: fan
            seeds: [1, 2, 3, 4, 5]
            stages:
              - {name: pretrain, job: sum, seeds: [1]}
              - {name: standard, job: sum}
              - {name: finetune, job: sum, from: pretrain}
              - {name: cka, job: sum, from: [finetune, standard]}
            """)
        let trials = SweepExpander.expand(sweep)
        XCTAssertEqual(SweepExpander.count(sweep), trials.count)
        let pretrain = trials.filter { $0.stage == "pretrain" }
        XCTAssertEqual(pretrain.map(\.seed), [1])
        let finetune = trials.filter { $0.stage == "finetune" }
        XCTAssertEqual(finetune.map(\.seed), [1, 2, 3, 4, 5], "the target seeds, not the source's")
        XCTAssertEqual(Set(finetune.map(\.parentTrialIDs)), [["pretrain-0000"]])
        // The join downstream pairs by the target seed as before.
        let cka = trials.filter { $0.stage == "cka" }
        XCTAssertEqual(cka.map(\.seed), [1, 2, 3, 4, 5])
        for trial in cka {
            let standard = trials.first { $0.stage == "standard" && $0.seed == trial.seed }!
            XCTAssertEqual(trial.parentTrialIDs, ["finetune-\(String(format: "%04d", trial.seed - 1))", standard.id])
        }
    }

    func testASeedTheParentHasStartsFromThatSeedAndTheRestFromTheOneNamed() throws {
        let sweep = try parse("""
            name: fan
            seeds: [1, 2]
            stages:
              - {name: pretrain, job: sum}
              - {name: finetune, job: sum, from: pretrain, seeds: 4, from_seed: 2}
            """)
        let trials = SweepExpander.expand(sweep)
        XCTAssertEqual(SweepExpander.count(sweep), trials.count)
        let finetune = trials.filter { $0.stage == "finetune" }
        XCTAssertEqual(finetune.map(\.seed), [1, 2, 3, 4], "seeds: 4 is the count 1...4")
        XCTAssertEqual(finetune.map(\.parentTrialIDs), [["pretrain-0000"], ["pretrain-0001"], ["pretrain-0001"], ["pretrain-0001"]])
    }

    /// A source grid (one pre-training per model) with one seed: every target seed starts from
    /// each grid point's single trial, as `inherit:` expects.
    func testASingleSeedSourceGridServesEveryTargetSeedPerGridPoint() throws {
        let sweep = try parse("""
            name: fan
            seeds: [1, 2, 3]
            stages:
              - {name: pretrain, job: sum, seeds: [7], grid: {model: [a, b]}}
              - {name: finetune, job: sum, from: pretrain, inherit: [model]}
            """)
        let trials = SweepExpander.expand(sweep)
        XCTAssertEqual(SweepExpander.count(sweep), trials.count)
        let finetune = trials.filter { $0.stage == "finetune" }
        XCTAssertEqual(finetune.map(\.seed), [1, 1, 2, 2, 3, 3])
        XCTAssertEqual(finetune.map { $0.parameters["model"] }, [.string("a"), .string("b"), .string("a"), .string("b"), .string("a"), .string("b")])
        XCTAssertEqual(finetune.map { $0.parentTrialIDs[0] }, ["pretrain-0000", "pretrain-0001", "pretrain-0000", "pretrain-0001", "pretrain-0000", "pretrain-0001"])
    }

    /// A sweep without stage seeds expands exactly as before: one child per parent trial.
    func testWithoutStageSeedsEveryChildFollowsItsParentsSeed() throws {
        let sweep = try parse("name: x\nseeds: [3, 1]\nstages:\n  - {name: a, job: sum, grid: {g: [1, 2]}}\n  - {name: b, job: sum, from: a}\n")
        let trials = SweepExpander.expand(sweep)
        XCTAssertEqual(trials.filter { $0.stage == "b" }.map(\.parentTrialIDs), [["a-0000"], ["a-0001"], ["a-0002"], ["a-0003"]])
        XCTAssertEqual(trials.filter { $0.stage == "b" }.map(\.seed), [3, 3, 1, 1])
        XCTAssertNil(sweep.stages[1].seeds)
        XCTAssertFalse(sweep.stages[1].canonicalDefinition.contains("seeds"), "stored definitions keep their text")
    }

    func testSeedsThatTheParentCannotServeAreErrorsNamingLineAndKey() {
        let head = "name: x\nseeds: [1, 2, 3]\nstages:\n  - {name: a, job: sum, seeds: [1, 2]}\n"
        assertError(head + "  - {name: b, job: sum, from: a}\n", line: 5, key: "stages[1].from",
                    mentions: "seed 3 has no trial of parent stage \"a\" to start from (it has seeds 1, 2)")
        assertError(head + "  - name: b\n    job: sum\n    from: a\n    seeds: [1, 5]\n", line: 8, key: "stages[1].seeds", mentions: "seed 5")
        assertError(head + "  - name: b\n    job: sum\n    from: a\n    from_seed: 9\n", line: 8, key: "stages[1].from_seed",
                    mentions: "from_seed 9 is not a seed of parent stage \"a\"")
        assertError(head + "  - {name: b, job: sum, seeds: []}\n", line: 5, key: "stages[1].seeds", mentions: "empty list")
        assertError(head + "  - {name: b, job: sum, seeds: [2, 2]}\n", line: 5, key: "stages[1].seeds", mentions: "repeats a seed")
        assertError(head + "  - {name: b, job: sum, seeds: 0}\n", line: 5, key: "stages[1].seeds", mentions: "a count of seeds must be in 1...")
        assertError(head + "  - {name: b, job: sum, from_seed: 1}\n", line: 5, key: "stages[1].from_seed", mentions: "needs from:")
        // A second parent is held to the same rule.
        assertError(head + "  - {name: c, job: sum}\n  - {name: d, job: sum, from: [c, a]}\n", line: 6, key: "stages[2].from", mentions: "seed 3")
    }

    func testAnAppendedStageIsCheckedAgainstTheStoredTrialsSeeds() throws {
        let stored = SweepExpander.expand(try parse("name: x\nseeds: [1, 2]\nstages:\n  - {name: a, job: sum, seeds: [1]}\n  - {name: b, job: sum, seeds: [1, 2, 3]}\n"))
        let parser = SweepParser(file: "s.yaml")
        let fanned = try parser.parseAppendix("stages:\n  - {name: e, job: sum, from: a}\n", existing: ["a", "b"], existingTrials: stored, seeds: [1, 2])
        XCTAssertEqual(SweepExpander.expand(fanned, after: stored, seeds: [1, 2], retries: 0).map(\.parentTrialIDs), [["a-0000"], ["a-0000"]])
        XCTAssertThrowsError(try parser.parseAppendix("stages:\n  - {name: e, job: sum, from: b, seeds: [4]}\n", existing: ["a", "b"],
                                                      existingTrials: stored, seeds: [1, 2])) { error in
            XCTAssertTrue("\(error)".contains("seed 4 has no trial of parent stage \"b\""), "\(error)")
        }
    }
}
