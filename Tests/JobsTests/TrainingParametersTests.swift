import Cluster
import XCTest
@testable import Jobs
import Study

/// The `train` job's parameters speak the sweep's snake_case, as the study roles do, and a
/// misspelt key is an error naming it instead of a setting silently dropped.
final class TrainingParametersTests: XCTestCase {
    func testSnakeCaseKeysSetTheConfigurationAndCamelCaseStillDoes() throws {
        let snake = try TrainingConfiguration.fromSweepParameters([
            "model": .string("small-cnn"), "dataset": .string("fashion-mnist"), "batch_size": .int(32), "learning_rate": .double(0.01),
            "per_class": .int(100), "crop_padding": .int(2), "horizontal_flip": .bool(true), "batch_norm_slices": .int(3),
            "objective": .object(["kind": .string("trades"), "step_size": .double(0.002), "beta": .int(6)]),
        ])
        XCTAssertEqual(snake.batchSize, 32)
        XCTAssertEqual(snake.learningRate, 0.01)
        XCTAssertEqual(snake.perClass, 100)
        XCTAssertEqual(snake.cropPadding, 2)
        XCTAssertTrue(snake.horizontalFlip)
        XCTAssertEqual(snake.batchNormSlices, 3)
        XCTAssertEqual(snake.objective?.kind, .trades)
        XCTAssertEqual(snake.objective?.stepSize, 0.002)
        XCTAssertEqual(snake.epochs, TrainingConfiguration(model: "m", dataset: "d").epochs, "unset keys keep rt train's defaults")

        let camel = try TrainingConfiguration.fromSweepParameters(["model": .string("small-cnn"), "dataset": .string("fashion-mnist"), "batchSize": .int(32)])
        XCTAssertEqual(camel.batchSize, 32)
    }

    func testMistakesNameTheKey() {
        func message(_ parameters: [String: JSONValue]) -> String {
            do { _ = try TrainingConfiguration.fromSweepParameters(parameters); return "no error" } catch { return "\(error)" }
        }
        let base: [String: JSONValue] = ["model": .string("small-cnn"), "dataset": .string("fashion-mnist")]
        XCTAssertTrue(message(base.merging(["batchsize": .int(32)]) { $1 }).contains("unknown parameter batchsize; known: "))
        XCTAssertTrue(message(base.merging(["batchsize": .int(32)]) { $1 }).contains("batch_size"), "the known keys are listed in snake_case")
        XCTAssertTrue(message(base.merging(["objective": .object(["kind": .string("dm"), "betta": .int(5)])]) { $1 }).contains("unknown parameter objective.betta"))
        XCTAssertTrue(message(base.merging(["epochs": .string("ten")]) { $1 }).contains("parameter epochs"), message(base.merging(["epochs": .string("ten")]) { $1 }))
        XCTAssertTrue(message(["dataset": .string("fashion-mnist")]).contains("need \"model\" and \"dataset\""))
    }
}
