import Cluster
import Robustness
import XCTest
@testable import Jobs
import Study

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

    func testSaturateOnGrayImagesFailsBeforeTraining() throws {
        let parameters: [String: JSONValue] = [
            "target": .object(["dataset": .string("synthetic:classes=2,channels=1,size=8,train=20,test=10,seed=1"), "epochs": .int(50)]),
            "attacks": .array([.object(["attack": .string("corruption"), "kinds": .array([.string("saturate")])])]),
        ]
        let trial = StudyTrial(spec: try StudyTrialSpec(role: .standard, parameters: parameters, seed: 1))
        var trained = false
        XCTAssertThrowsError(try trial.run(parentCheckpoint: nil, progress: { _, _ in trained = true })) {
            XCTAssertTrue("\($0)".contains("parameter attacks: kinds: saturate"), "\($0)")
        }
        XCTAssertFalse(trained, "no training step ran")
    }

    /// A trial with attacks and corruptions, and an evaluate stage with corruptions only: metrics
    /// as docs/STUDY.md specifies, and one mask of every (kind, severity) over the attacked subset.
    func testTrialsAndEvaluationsMeasureCorruptions() throws {
        let dataset = "synthetic:classes=4,channels=1,size=12,train=600,test=160,seed=5"
        let corruption: JSONValue = .object(["attack": .string("corruption"), "kinds": .array([.string("gaussian_noise"), .string("pixelate")]),
                                             "severities": .array([.int(1), .int(5)])])
        let parameters: [String: JSONValue] = [
            "target": .object(["dataset": .string(dataset), "classes": .string("2-3"), "per_class": .int(100), "epochs": .int(2)]),
            "batch_size": .int(32), "attack_examples": .int(50),
            "attacks": .array([.object(["attack": .string("pgd"), "steps": .int(2), "eps": .string("8/255")]), corruption]),
        ]
        let trial = try StudyTrial(spec: StudyTrialSpec(role: .standard, parameters: parameters, seed: 3)).run(parentCheckpoint: nil)
        XCTAssertEqual(trial.metrics["attacks"]?.arrayValue?.count, 1, "the corruption entry is not an attack")
        let metrics = try XCTUnwrap(trial.metrics["corruptions"]?.objectValue)
        XCTAssertEqual(metrics["examples"], .int(50))
        XCTAssertEqual(metrics["clean_accuracy"], trial.metrics["attacked_clean_accuracy"])
        let results = try XCTUnwrap(metrics["results"]?.arrayValue).compactMap(\.objectValue)
        XCTAssertEqual(results.map { "\($0["kind"]!.stringValue!)-\($0["severity"]!.intValue!)" },
                       ["gaussian_noise-1", "gaussian_noise-5", "pixelate-1", "pixelate-5"])
        // One mask for all of them (a result carries at most 63), result by result.
        let mask = try XCTUnwrap(trial.masks["corruptions"])
        XCTAssertEqual(mask.count, 4 * 50)
        XCTAssertLessThanOrEqual(trial.masks.count, 15)
        for (index, r) in results.enumerated() {
            let own = mask[mask.startIndex + index * 50..<mask.startIndex + (index + 1) * 50]
            XCTAssertEqual(Double(own.filter { $0 == 1 }.count) / 50, r["accuracy"]!.doubleValue!, "the mask and the metric agree")
        }
        let mean = results.map { $0["accuracy"]!.doubleValue! }.reduce(0, +) / 4
        XCTAssertEqual(metrics["mean_accuracy"]!.doubleValue!, mean, accuracy: 1e-12, "two kinds with the same severities")

        let checkpoint = try XCTUnwrap(trial.artifact).bytes
        let evaluation = try StudyAnalysisJob.evaluate.run(parameters: ["attacks": .array([corruption]), "attack_examples": .int(50)],
                                                           parents: [ParentArtifact(stage: "standard", trialID: "standard-0000", bytes: checkpoint)])
        XCTAssertNil(evaluation.metrics["attacks"])
        XCTAssertEqual(evaluation.metrics["corruptions"], trial.metrics["corruptions"].map { value -> JSONValue in
            guard case var .object(fields) = value else { return value }
            fields["seconds"] = evaluation.metrics["corruptions"]?.objectValue?["seconds"]
            return .object(fields)
        }, "the same seed, subset and model: the same corrupted images and results")
    }
}
