import Cluster
import Datasets
import Foundation
import XCTest
@testable import Jobs
import Study

/// A study trial's learning curve: every epoch's training loss and accuracy, learning rate and
/// seconds; with `eval_every`, validation accuracy on a held-out part of the training data and
/// robust accuracy on a fixed subset of it.
final class LearningCurveTests: XCTestCase {
    static let dataset = StudyTrialTests.dataset

    private func parameters(_ extra: [String: JSONValue]) -> [String: JSONValue] {
        ["target": .object(["dataset": .string(Self.dataset), "classes": .string("2-3"), "per_class": .int(100), "epochs": .int(3)]),
         "batch_size": .int(32)].merging(extra) { $1 }
    }

    private func curve(_ outcome: JobOutcome) throws -> [[String: JSONValue]] {
        try XCTUnwrap(outcome.metrics["learning_curve"]?.arrayValue).map { point in
            guard case let .object(fields) = point else { throw JobError("not an object: \(point)") }
            return fields
        }
    }

    func testEveryEpochIsStoredAndValidationPointsFollowEvalEvery() throws {
        let spec = try StudyTrialSpec(role: .standard, parameters: parameters([
            "eval_every": .int(2), "eval_examples": .int(20), "eval_attack_examples": .int(10),
            "eval_attack": .object(["attack": .string("pgd"), "eps": .string("64/255"), "steps": .int(3)]),
        ]), seed: 3)
        let outcome = try StudyTrial(spec: spec).run(parentCheckpoint: nil)
        let points = try curve(outcome)
        XCTAssertEqual(points.map { $0["epoch"] }, [.int(1), .int(2), .int(3)])
        for point in points {
            for key in ["train_loss", "train_accuracy", "learning_rate", "seconds"] { XCTAssertNotNil(point[key]?.doubleValue, key) }
        }
        // Cosine schedule: the rate falls epoch by epoch.
        let rates = points.compactMap { $0["learning_rate"]?.doubleValue }
        XCTAssertEqual(rates, rates.sorted(by: >))
        // Epoch 2 (every second) and the last: validation points; epoch 1 none.
        XCTAssertNil(points[0]["val_accuracy"])
        for point in [points[1], points[2]] {
            let clean = try XCTUnwrap(point["val_accuracy"]?.doubleValue)
            let robust = try XCTUnwrap(point["val_robust_accuracy"]?.doubleValue)
            XCTAssertTrue((0...1).contains(clean))
            XCTAssertLessThanOrEqual(robust, 1)
            // 40 held-out examples: accuracy is a multiple of 1/40; the attacked 10: of 1/10.
            XCTAssertEqual((clean * 40).rounded(), clean * 40, accuracy: 1e-9)
            XCTAssertEqual((robust * 10).rounded(), robust * 10, accuracy: 1e-9)
        }
        XCTAssertEqual(outcome.metrics["train_examples"], .int(200), "the held-out split comes from what the per-class sample left over")
    }

    /// Measuring the curve does not change what is trained: the same losses, the same model.
    func testWithoutEvalEveryTheCurveHasTrainingPointsOnlyAndTheSameModel() throws {
        let outcome = try StudyTrial(spec: try StudyTrialSpec(role: .standard, parameters: parameters([:]), seed: 3)).run(parentCheckpoint: nil)
        let points = try curve(outcome)
        XCTAssertEqual(points.count, 3)
        XCTAssertTrue(points.allSatisfy { $0["val_accuracy"] == nil && $0["val_robust_accuracy"] == nil })
        let probed = try StudyTrial(spec: try StudyTrialSpec(role: .standard, parameters: parameters(["eval_every": .int(1), "eval_examples": .int(10)]),
                                                             seed: 3)).run(parentCheckpoint: nil)
        XCTAssertEqual(try curve(probed).map { $0["train_loss"] }, points.map { $0["train_loss"] })
        XCTAssertEqual(probed.artifact?.bytes, outcome.artifact?.bytes, "bit-identical checkpoints")
    }

    func testCurveSettingsWithoutEvalEveryOrWithSeveralAttacksAreErrorsNamingTheKey() {
        XCTAssertThrowsError(try StudyTrialSpec(role: .standard, parameters: parameters(["eval_examples": .int(5)]), seed: 1)) { error in
            XCTAssertTrue("\(error)".contains("parameter eval_every: missing"), "\(error)")
        }
        XCTAssertThrowsError(try StudyTrialSpec(role: .standard, parameters: parameters([
            "eval_every": .int(1), "eval_attack": .object(["attack": .string("pgd"), "eps": .array([.string("1/255"), .string("2/255")])]),
        ]), seed: 1)) { error in
            XCTAssertTrue("\(error)".contains("parameter eval_attack: give one attack with one eps"), "\(error)")
        }
        XCTAssertThrowsError(try StudyTrialSpec(role: .standard, parameters: parameters(["eval_every": .int(0)]), seed: 1)) { error in
            XCTAssertTrue("\(error)".contains("eval_every: must be at least 1"), "\(error)")
        }
    }

    private func images(_ data: ImageDataset) -> [[UInt8]] { (0..<data.count).map { Array(data.image($0)) } }

    /// The held-out split is disjoint from the training sample, the same for every role of a
    /// seed, and leaves the training sample as it is without it.
    func testTheHeldOutSplitNeverOverlapsTheTrainingSample() throws {
        let plain = try DatasetTask.load(dataset: Self.dataset, classes: "2-3", perClass: 100, seed: 7)
        let held = try DatasetTask.load(dataset: Self.dataset, classes: "2-3", perClass: 100, seed: 7, validationPerClass: 30)
        XCTAssertEqual(images(held.train), images(plain.train), "the training sample does not change")
        let validation = try XCTUnwrap(held.validation)
        XCTAssertEqual(validation.count, 60)
        XCTAssertEqual(validation.labels.filter { $0 == 0 }.count, 30)
        let trainImages = Set(images(held.train))
        for (index, image) in images(validation).enumerated() { XCTAssertFalse(trainImages.contains(image), "example \(index) is also trained on") }
        let again = try DatasetTask.load(dataset: Self.dataset, classes: "2-3", perClass: 100, seed: 7, validationPerClass: 30)
        XCTAssertEqual(images(try XCTUnwrap(again.validation)), images(validation), "seeded")
        // Every example kept: the held-out part is taken out of training.
        let all = try DatasetTask.load(dataset: Self.dataset, classes: "2-3", seed: 7, validationPerClass: 30)
        let full = try DatasetTask.load(dataset: Self.dataset, classes: "2-3", seed: 7)
        XCTAssertEqual(all.train.count, full.train.count - 60)
        XCTAssertThrowsError(try DatasetTask.load(dataset: Self.dataset, classes: "2-3", perClass: 140, seed: 7, validationPerClass: 30)) { error in
            XCTAssertTrue("\(error)".contains("held-out validation split"), "\(error)")
        }
    }
}
