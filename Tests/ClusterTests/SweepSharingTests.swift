import Foundation
import XCTest
@testable import Cluster

/// Stages share parameters through YAML anchors and merge keys; values keep the type YAML gives them.
final class SweepSharingTests: XCTestCase {
    private func parse(_ text: String) throws -> SweepSpec { try SweepParser(file: "s.yaml").parse(text) }

    func testStagesMergeAnchoredDefaultsAndOverrideThem() throws {
        let sweep = try parse("""
            name: shared
            defaults:
              common: &common
                model: small-cnn
                lr: 0.05
                target: {dataset: fashion-mnist, classes: 5-9}
              attack: &attack {eps: [1/255, 8/255]}
            stages:
              - name: standard
                job: standard
                parameters: *common
              - name: finetune
                job: finetune
                from: standard
                parameters: {<<: [*common, *attack], lr: 0.01}
            """)
        XCTAssertEqual(sweep.stages[0].parameters["model"], .string("small-cnn"))
        XCTAssertEqual(sweep.stages[0].parameters["target"], .object(["dataset": .string("fashion-mnist"), "classes": .string("5-9")]))
        let finetune = sweep.stages[1].parameters
        XCTAssertEqual(finetune["lr"], .double(0.01), "a key written in the stage wins over the merged one")
        XCTAssertEqual(finetune["model"], .string("small-cnn"))
        XCTAssertEqual(finetune["eps"], .array([.string("1/255"), .string("8/255")]))
        XCTAssertNil(finetune["<<"])
    }

    func testScalarsKeepTheirYAMLType() throws {
        let sweep = try parse("""
            name: types
            stages:
              - name: s
                job: sum
                parameters: {range: 0-4, octal: 010, int: 12, float: 0.5, yes: true, nothing: null, quoted: "12"}
            """)
        let p = sweep.stages[0].parameters
        XCTAssertEqual(p["range"], .string("0-4"), "a class range is text, not the integer -4")
        XCTAssertEqual(p["int"], .int(12))
        XCTAssertEqual(p["float"], .double(0.5))
        XCTAssertEqual(p["yes"], .bool(true))
        XCTAssertEqual(p["nothing"], .null)
        XCTAssertEqual(p["quoted"], .string("12"))
    }

    func testAMergeKeyNeedsMappings() {
        XCTAssertThrowsError(try parse("""
            name: bad
            stages:
              - name: s
                job: sum
                parameters: {<<: 3}
            """)) { XCTAssertTrue("\($0)".contains("merge key takes a mapping"), "\($0)") }
    }
}

/// `inherit:` copies parameters from the parent trial: a fine-tune follows its pre-training's grid point.
final class SweepInheritTests: XCTestCase {
    func testInheritedKeysFollowTheParentTrialUnlessTheStageSetsThem() throws {
        let sweep = try SweepParser(file: "s.yaml").parse("""
            name: inherit
            seeds: [1]
            stages:
              - name: pre
                job: sum
                grid: {model: [a, b], lr: [1, 2]}
              - name: fine
                job: sum
                from: pre
                inherit: [model, lr, missing]
                parameters: {lr: 9}
            """)
        let fine = SweepExpander.expand(sweep).filter { $0.stage == "fine" }
        XCTAssertEqual(fine.map { $0.parameters["model"] }, [.string("a"), .string("a"), .string("b"), .string("b")])
        XCTAssertTrue(fine.allSatisfy { $0.parameters["lr"] == .int(9) }, "a value the stage sets wins")
        XCTAssertTrue(fine.allSatisfy { $0.parameters["missing"] == nil }, "a key the parent lacks stays unset")
    }

    func testInheritNeedsAParent() {
        XCTAssertThrowsError(try SweepParser(file: "s.yaml").parse("""
            name: bad
            stages:
              - {name: pre, job: sum, inherit: [model]}
            """)) { XCTAssertTrue("\($0)".contains("needs from:"), "\($0)") }
    }
}
