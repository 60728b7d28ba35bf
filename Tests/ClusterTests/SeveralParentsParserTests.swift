import Foundation
import XCTest
@testable import Cluster

/// `from: [a, b]` and appendix documents (stages appended to a stored run).
final class SeveralParentsParserTests: XCTestCase {
    private let head = "name: x\nstages:\n  - {name: a, job: sum}\n  - {name: b, job: sum}\n"

    private func assertError(_ text: String, line: Int, key: String, mentions: String, existing: [String]? = nil,
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
