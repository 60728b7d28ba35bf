import Foundation
import XCTest
@testable import Cluster

/// Hostile and broken sweep files (issue 13): each is an error naming the file, line and key,
/// found before anything of the size it asks for is built.
final class SweepLimitsTests: XCTestCase {
    private let limits = SweepLimits()

    private func assertRefused(_ text: String, line: Int, key: String, mentions: String,
                               limits: SweepLimits = SweepLimits(), file: StaticString = #filePath, lineNumber: UInt = #line) {
        XCTAssertThrowsError(try SweepParser(file: "s.yaml", limits: limits).parse(text), file: file, line: lineNumber) { error in
            guard let error = error as? SweepError else { return XCTFail("not a SweepError: \(error)", file: file, line: lineNumber) }
            XCTAssertEqual(error.line, line, "\(error)", file: file, line: lineNumber)
            XCTAssertEqual(error.key, key, "\(error)", file: file, line: lineNumber)
            XCTAssertTrue(error.description.contains(mentions), "\(error)", file: file, line: lineNumber)
            XCTAssertTrue(error.description.hasPrefix("s.yaml:\(line):"), "\(error)", file: file, line: lineNumber)
        }
    }

    func testRangePastTheTrialLimitIsRefusedBeforeItIsBuilt() {
        assertRefused("name: s\nstages:\n  - name: a\n    job: sum\n    grid:\n      i: {range: [0, 10000000]}\n",
                      line: 6, key: "stages[0].grid.i.range", mentions: "makes 10000000 values, past the limit of 1000000 trials")
    }

    func testRangeToIntMaxIsACountNotALoop() {
        assertRefused("name: s\nstages:\n  - {name: a, job: sum, grid: {i: {range: [0, 9223372036854775807]}}}\n",
                      line: 3, key: "stages[0].grid.i.range", mentions: "makes 9223372036854775807 values")
        assertRefused("name: s\nstages:\n  - {name: a, job: sum, grid: {i: {range: [-9223372036854775808, 9223372036854775807, 3]}}}\n",
                      line: 3, key: "stages[0].grid.i.range", mentions: "more than 9223372036854775807")
    }

    func testGridProductIsCheckedAxisByAxis() {
        // Each axis is small; their product, 10^12, is not.
        let text = """
            name: s
            stages:
              - name: a
                job: sum
                grid:
                  i: {range: [0, 1000000]}
                  j: {range: [0, 1000000]}
            """
        assertRefused(text, line: 7, key: "stages[0].grid.j", mentions: "more than 1000000 points")
    }

    func testRandomCountPastTheLimit() {
        assertRefused("name: s\nstages:\n  - name: a\n    job: sum\n    random: {count: 1000000000, axes: {x: {uniform: [0, 1]}}}\n",
                      line: 5, key: "stages[0].random.count", mentions: "1000000000 samples is past the limit")
    }

    func testGridTimesRandomTimesSeedsAndParentsCountAgainstTheLimit() {
        let small = SweepLimits(maxTrials: 100)
        // 10 points x 5 samples = 50 per seed, x 3 seeds = 150 trials: the stage is too big.
        assertRefused("name: s\nseeds: [1, 2, 3]\nstages:\n  - name: a\n    job: sum\n    grid: {i: {range: [0, 10]}}\n    random: {count: 5, axes: {x: {uniform: [0, 1]}}}\n",
                      line: 4, key: "stages[0]", mentions: "makes more than 100 trials", limits: small)
        // 40 root trials, then 40 x 2 children: 120 in all, the second stage crosses the limit.
        assertRefused("name: s\nstages:\n  - {name: a, job: sum, grid: {i: {range: [0, 40]}}}\n  - {name: b, job: sum, from: a, grid: {k: [1, 2]}}\n",
                      line: 4, key: "stages[1]", mentions: "makes 80 trials, which takes the sweep past the limit of 100", limits: small)
        // A join multiplies by the trials of every other parent with the same seed: 10 x 10 x 10.
        assertRefused("name: s\nstages:\n  - {name: a, job: sum, grid: {i: {range: [0, 10]}}}\n  - {name: b, job: sum, grid: {i: {range: [0, 10]}}}\n  - {name: c, job: sum, from: [a, b]}\n",
                      line: 5, key: "stages[2]", mentions: "makes more than 99 trials", limits: SweepLimits(maxTrials: 99))
    }

    func testTheCountMatchesTheExpansionAtTheLimit() throws {
        let text = "name: s\nseeds: [1, 2]\nstages:\n  - {name: a, job: sum, grid: {i: {range: [0, 5]}}}\n  - {name: b, job: sum, from: a, grid: {k: [1, 2]}}\n  - {name: c, job: sum, from: [b, a]}\n"
        // 10 + 20 + 20 x 5 = 130 trials: exactly at a limit of 130 it parses, one below it does not.
        let sweep = try SweepParser(file: "s.yaml", limits: SweepLimits(maxTrials: 130)).parse(text)
        XCTAssertEqual(SweepExpander.expand(sweep).count, 130)
        XCTAssertThrowsError(try SweepParser(file: "s.yaml", limits: SweepLimits(maxTrials: 129)).parse(text))
    }

    func testTheLimitComesFromTheEnvironment() {
        setenv(SweepLimits.maxTrialsVariable, "7", 1)
        defer { unsetenv(SweepLimits.maxTrialsVariable) }
        XCTAssertEqual(SweepLimits.standard.maxTrials, 7)
        setenv(SweepLimits.maxTrialsVariable, "lots", 1)
        XCTAssertEqual(SweepLimits.standard.maxTrials, SweepLimits.defaultMaxTrials, "an unreadable value keeps the default")
    }

    func testAliasBombIsRefusedWithoutExpandingIt() {
        // Nine levels of ten aliases each: 10^9 nodes once expanded, a few hundred bytes of text.
        var text = "name: s\ndefaults:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 { text += "  l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        text += "stages:\n  - {name: a, job: sum, parameters: {p: *l9}}\n"
        let started = Date()
        XCTAssertThrowsError(try SweepParser(file: "s.yaml").parse(text)) { error in
            guard let error = error as? SweepError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.key, "(document)")
            XCTAssertTrue(error.description.contains("expands to more than 1000000 YAML nodes"), "\(error)")
        }
        print("alias bomb refused in \(Int(Date().timeIntervalSince(started) * 1000)) ms")
    }

    /// Found by the sweep fuzzer: the bomb used as a mapping key hung Yams, which hashes every
    /// key while it builds the document (before the expansion limit is checked). A key must be
    /// text; an alias, a list or a mapping in its place is refused from the parser's events.
    func testAliasBombAsAMappingKeyIsRefusedBeforeYamsBuildsIt() {
        var bomb = "name: s\ndefaults:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 { bomb += "  l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let cases = [(bomb + "stages:\n  - {name: a, job: sum, parameters: 8, *l8 : {p: *l9}}\n", 14, 40, "an alias"),
                     (bomb + "stages:\n  - {name: a, job: sum, {p: *l9}: 1}\n", 14, 25, "a mapping"),
                     ("name: s\nstages:\n  - name: a\n    [job]: sum\n", 4, 5, "a list")]
        for (text, line, column, what) in cases {
            XCTAssertThrowsError(try SweepParser(file: "s.yaml").parse(text)) { error in
                XCTAssertEqual("\(error)", "s.yaml:\(line):\(column): (document): a mapping key must be text, not \(what) (refused before the document is built: such a key is compared by its whole expansion)")
            }
        }
    }

    func testSharedDefaultsThroughAnchorsStillParse() throws {
        let sweep = try SweepParser(file: "s.yaml").parse("""
            name: s
            defaults:
              common: &common {lr: 0.1, epochs: 2}
            stages:
              - {name: a, job: sum, parameters: {<<: *common, lr: 0.01}}
              - {name: b, job: sum, parameters: *common}
            """)
        XCTAssertEqual(sweep.stages[0].parameters["lr"], .double(0.01))
        XCTAssertEqual(sweep.stages[1].parameters["epochs"], .int(2))
    }

    func testNamesThatWouldLeaveTheRunsDirectoryAreRefused() {
        for name in ["..", ".", ".hidden", "a..b", "-x", "a/b", "_x", String(repeating: "a", count: 129)] {
            assertRefused("name: '\(name)'\nstages:\n  - {name: a, job: sum}\n", line: 1, key: "name", mentions: "must start with a letter or digit")
        }
        for name in ["..", "a.b", "-x", "a/b", "_x"] {
            assertRefused("name: s\nstages:\n  - {name: '\(name)', job: sum}\n", line: 3, key: "stages[0].name", mentions: "must start with a letter or digit")
        }
        XCTAssertNoThrow(try SweepParser(file: "s.yaml").parse("name: cifar100-to-cifar10.v2\nstages:\n  - {name: pre_train-1, job: sum}\n"))
    }

    func testNonUTF8FileNamesTheByteOffsetAndLine() throws {
        let directory = try TemporaryDirectory(prefix: "rt-sweep")
        defer { directory.remove() }
        let url = directory.url.appendingPathComponent("latin1.yaml")
        var bytes = Array("name: s\nstages:\n  - {name: a, job: sum, parameters: {who: ".utf8)
        let offset = bytes.count
        bytes += [0x4A, 0xF6, 0x72, 0x67] + Array("}}\n".utf8)  // "Jörg" in Latin-1
        try Data(bytes).write(to: url)
        XCTAssertThrowsError(try SweepParser.parse(contentsOf: url)) { error in
            guard let error = error as? SweepError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.file, url.path)
            XCTAssertEqual(error.line, 3)
            XCTAssertEqual(error.column, offset - 16 + 2)
            XCTAssertTrue(error.description.contains("not UTF-8 text: byte \(offset + 1) (0xF6)"), "\(error)")
        }
    }

    func testAHugeFileIsRefusedBeforeItIsRead() throws {
        let directory = try TemporaryDirectory(prefix: "rt-sweep")
        defer { directory.remove() }
        let url = directory.url.appendingPathComponent("big.yaml")
        try Data(repeating: UInt8(ascii: " "), count: 4096).write(to: url)
        XCTAssertThrowsError(try SweepParser.parse(contentsOf: url, limits: SweepLimits(maxFileBytes: 1024))) { error in
            XCTAssertTrue("\(error)".contains("is 4096 bytes; sweep files may hold at most 1024"), "\(error)")
        }
    }

    func testAnAppendixCountsTheStoredTrialsItBuildsOn() throws {
        let sweep = try SweepParser(file: "s.yaml").parse("name: s\nseeds: [1, 2]\nstages:\n  - {name: a, job: sum, grid: {i: {range: [0, 30]}}}\n")
        let stored = SweepExpander.expand(sweep)
        let parser = SweepParser(file: "more.yaml", limits: SweepLimits(maxTrials: 100))
        // 60 stored trials of `a`; one child each is 60 more (120 in all).
        XCTAssertThrowsError(try parser.parseAppendix("stages:\n  - {name: b, job: sum, from: a}\n", existing: ["a"],
                                                      existingTrials: stored, seeds: sweep.seeds)) { error in
            XCTAssertTrue("\(error)".contains("more.yaml:2:"), "\(error)")
        }
    }
}
