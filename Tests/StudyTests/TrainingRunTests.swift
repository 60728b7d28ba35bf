import Foundation
import XCTest
import Datasets
import NeuralNetworks
import TensorEngine
@testable import Study

final class TrainingRunTests: XCTestCase {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-train-\(UUID().uuidString)")
    override func setUpWithError() throws { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    /// Synthetic images, 6 classes of 1×16×16: quick to train, not trivial.
    let dataset = "synthetic:classes=6,channels=1,size=16,train=1200,test=300,seed=3"

    func configuration(classes: String, epochs: Int = 3) -> TrainingConfiguration {
        var c = TrainingConfiguration(model: "small-cnn", dataset: dataset)
        c.classes = classes
        c.epochs = epochs
        c.batchSize = 32
        c.learningRate = 0.05
        c.threads = 1
        return c
    }

    func testTrainsEvaluatesAndFineTunesFromAnotherTask() throws {
        let sourcePath = directory.appendingPathComponent("source.safetensors").path
        var events: [EpochSummary] = []
        let (_, source) = try TrainingRun(configuration(classes: "0-2")).run(saveTo: sourcePath) {
            if case let .epoch(e) = $0 { events.append(e) }
        }
        XCTAssertEqual(events.map(\.epoch), [1, 2, 3])
        XCTAssertGreaterThan(source.testAccuracy, 0.6, "3 synthetic classes are learnable")
        XCTAssertEqual(source.classes, 3)

        // Fine-tune on the other classes from the source checkpoint, with the first conv frozen.
        var target = configuration(classes: "3-5", epochs: 1)
        target.initCheckpoint = sourcePath
        target.retrainFrom = "conv2"
        target.backboneLearningRate = 0.01
        target.perClass = 20
        let targetPath = directory.appendingPathComponent("target.safetensors").path
        let (model, summary) = try TrainingRun(target).run(saveTo: targetPath)
        XCTAssertEqual(summary.trainExamples, 60)
        let (sourceModel, _) = try Checkpoint.load(sourcePath)
        let conv1 = { (m: ImageClassifier) in m.stateDict.first { $0.0 == "conv1.weight" }!.1.values }
        XCTAssertEqual(conv1(model), conv1(sourceModel), "frozen layers keep the pre-trained weights")
        XCTAssertEqual(model.modelDescription.mean, sourceModel.modelDescription.mean, "fine-tuning keeps the source normalization")

        let (loaded, metadata) = try Checkpoint.load(targetPath)
        XCTAssertEqual(metadata["init"], sourcePath)
        let data = try EvaluationData.load(dataset: dataset, classes: "3-5", split: .test, limit: 50, for: loaded)
        let evaluation = try Evaluation.evaluate(loaded, on: data)
        XCTAssertEqual(evaluation.examples, 50)
        XCTAssertEqual(evaluation.correct.count, 50)
        XCTAssertTrue((0...1).contains(evaluation.meanTrueConfidence))
    }

    func testSameSeedSameModel() throws {
        var c = configuration(classes: "0-1", epochs: 1)
        c.perClass = 40
        let a = try TrainingRun(c).run(saveTo: nil).model.stateDict.map { $0.1.values }
        let b = try TrainingRun(c).run(saveTo: nil).model.stateDict.map { $0.1.values }
        XCTAssertEqual(a, b)
    }

    func testBadInputFailsBeforeWorkAndWritesNothing() throws {
        let out = directory.appendingPathComponent("never.safetensors").path
        var c = configuration(classes: "0-2")
        c.epochs = 0
        XCTAssertThrowsError(try TrainingRun(c).run(saveTo: out)) { XCTAssertTrue("\($0)".contains("--epochs"), "\($0)") }
        c = configuration(classes: "0-9")
        XCTAssertThrowsError(try TrainingRun(c).run(saveTo: out)) { XCTAssertTrue("\($0)".contains("no class '9'"), "\($0)") }
        c = configuration(classes: "0-2")
        c.initCheckpoint = directory.appendingPathComponent("missing.safetensors").path
        XCTAssertThrowsError(try TrainingRun(c).run(saveTo: out)) { XCTAssertTrue("\($0)".contains("missing.safetensors"), "\($0)") }
        c = configuration(classes: "0-2")
        c.learningRate = 1e30  // diverges: the run stops at a non-finite loss
        c.momentum = 0
        XCTAssertThrowsError(try TrainingRun(c).run(saveTo: out)) { XCTAssertTrue("\($0)".contains("not finite"), "\($0)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no partial checkpoint")
    }

    func testEvaluationRejectsAMismatchedClassView() throws {
        let path = directory.appendingPathComponent("m.safetensors").path
        _ = try TrainingRun(configuration(classes: "0-2", epochs: 1)).run(saveTo: path)
        let (model, _) = try Checkpoint.load(path)
        XCTAssertThrowsError(try EvaluationData.load(dataset: dataset, classes: "0-4", split: .test, limit: nil, for: model)) {
            XCTAssertTrue("\($0)".contains("3 classes") && "\($0)".contains("5"), "\($0)")
        }
    }
}
