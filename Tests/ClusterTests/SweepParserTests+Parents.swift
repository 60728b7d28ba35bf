import Foundation
import XCTest
@testable import Cluster

/// `from: [a, b]` and appendix documents (stages appended to a stored run).
extension SweepParserTests {
    private var head: String { "name: x\nstages:\n  - {name: a, job: sum}\n  - {name: b, job: sum}\n" }

    func testFromTakesOneStageOrAList() throws {
        let sweep = try SweepParser(file: "s.yaml").parse(head + "  - {name: c, job: sum, from: [b, a]}\n  - {name: d, job: sum, from: c}\n")
        XCTAssertEqual(sweep.stages.map(\.from), [[], [], ["b", "a"], ["c"]])
    }

    func testEveryListedParentMustBeAnEarlierStageNamedOnce() {
        assertError(head + "  - name: c\n    job: sum\n    from: [a, z]\n", line: 7, key: "stages[2].from[1]", mentions: "no earlier stage is named \"z\"")
        assertError(head + "  - name: c\n    job: sum\n    from:\n      - b\n      - b\n", line: 9, key: "stages[2].from[1]", mentions: "names \"b\" twice")
        assertError(head + "  - name: c\n    job: sum\n    from: [a, c]\n", line: 7, key: "stages[2].from[1]", mentions: "no earlier stage is named \"c\"")
        assertError("name: x\nstages:\n  - {name: a, job: sum, from: [b]}\n  - {name: b, job: sum}\n", line: 3, key: "stages[0].from[0]", mentions: "no earlier stage")
        assertError(head + "  - name: c\n    job: sum\n    from: []\n", line: 7, key: "stages[2].from", mentions: "empty list")
        assertError(head + "  - name: c\n    job: sum\n    from: [a, {x: 1}]\n", line: 7, key: "stages[2].from[1]", mentions: "expected text")
    }

    func testAnAppendixMayNameTheRunsStagesAndNothingElse() throws {
        let stages = try SweepParser(file: "s.yaml").parseAppendix(
            "description: attack suite\nstages:\n  - {name: eval, job: sum, from: [a, b]}\n  - {name: more, job: sum, from: eval}\n",
            existing: ["a", "b"])
        XCTAssertEqual(stages.map(\.name), ["eval", "more"])
        XCTAssertEqual(stages.map(\.from), [["a", "b"], ["eval"]])
        assertError("stages:\n  - {name: eval, job: sum, from: [a, q]}\n", line: 2, key: "stages[0].from[1]", mentions: "\"q\"", existing: ["a"])
        assertError("name: x\nstages:\n  - {name: eval, job: sum}\n", line: 1, key: "name", mentions: "unknown key", existing: ["a"])
        assertError("stages:\n  - {name: e, job: sum}\n  - {name: e, job: sum}\n", line: 3, key: "stages[1].name", mentions: "already exists", existing: [])
    }
}
