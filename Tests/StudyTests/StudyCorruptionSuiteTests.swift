import Cluster
import Robustness
import XCTest
@testable import Study

/// The `{attack: corruption, kinds: [...], severities: [...]}` entry of a sweep's `attacks:`.
final class StudyCorruptionSuiteTests: XCTestCase {
    let target: JSONValue = .object(["dataset": .string("fashion-mnist"), "classes": .string("5-9")])

    func spec(_ attacks: JSONValue) throws -> StudyTrialSpec {
        try StudyTrialSpec(role: .standard, parameters: ["target": target, "attacks": attacks, "attack_seed": .int(4)], seed: 1)
    }

    func testCorruptionEntryIsReadBesideTheAttacks() throws {
        let s = try spec(.array([
            .object(["attack": .string("pgd"), "eps": .string("8/255")]),
            .object(["attack": .string("corruption"), "kinds": .array([.string("gaussian_noise"), .string("contrast")]),
                     "severities": .array([.int(1), .int(3), .int(5)])]),
        ]))
        XCTAssertEqual(s.attacks.map(\.key), ["pgd-linf-8/255"])
        XCTAssertEqual(s.corruptions, CorruptionSuite(kinds: [.gaussianNoise, .contrast], severities: [1, 3, 5], seed: 4))
        XCTAssertEqual(try s.corruptions?.specs(channels: 1).map(\.label),
                       ["gaussian_noise-1", "gaussian_noise-3", "gaussian_noise-5", "contrast-1", "contrast-3", "contrast-5"])
    }

    func testKindsAndSeveritiesDefaultToAllThatApply() throws {
        let s = try spec(.array([.object(["attack": .string("corruption")])]))
        XCTAssertTrue(s.attacks.isEmpty)
        XCTAssertEqual(try s.corruptions?.specs(channels: 1).count, 5 * (CorruptionKind.allCases.count - 1))
        XCTAssertEqual(try s.corruptions?.specs(channels: 3).count, 5 * CorruptionKind.allCases.count)
    }

    func testMistakesNameTheKey() {
        func message(_ entry: [String: JSONValue]) -> String {
            var fields = entry
            fields["attack"] = .string("corruption")
            do { _ = try spec(.array([.object(fields)])); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(["kinds": .array([.string("fog")])]).contains("attacks[0].kinds: unknown corruption 'fog'"), message(["kinds": .array([.string("fog")])]))
        XCTAssertTrue(message(["severities": .array([.int(6)])]).contains("attacks[0].severities: severity must be 1 to 5, got 6"))
        XCTAssertTrue(message(["severities": .array([.int(0)])]).contains("got 0"))
        XCTAssertTrue(message(["severities": .array([.string("high")])]).contains("attacks[0].severities"))
        XCTAssertTrue(message(["eps": .string("8/255")]).contains("unknown parameter attacks[0].eps"))
        XCTAssertTrue(message(["kinds": .array([])]).contains("attacks[0].kinds: empty"))
        let twice: JSONValue = .array([.object(["attack": .string("corruption")]), .object(["attack": .string("corruption")])])
        XCTAssertThrowsError(try spec(twice)) { XCTAssertTrue("\($0)".contains("attacks[1]: a second corruption entry"), "\($0)") }
    }
}
