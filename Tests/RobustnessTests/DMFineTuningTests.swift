import Foundation
import NeuralNetworks
import Study
import TensorEngine
import XCTest
import Robustness

/// What DM is for, with the paper's weight: from the same adversarially pre-trained source, DM
/// fine-tuning keeps the clean accuracy of plain fine-tuning (at most 2 points lower) and is more
/// robust at the budget it trains at. A feature term of the wrong scale fails the first half (the
/// summed term of issue 20 makes this run's loss NaN within 4 steps), a term with no effect the
/// second. Measured: fine-tuning 0.987 clean, 0.957 PGD-10 at 2/255; DM 0.987 and 0.970.
final class DMFineTuningTests: XCTestCase {
    /// 6 synthetic classes in colour (each class has its own hue, so 4 epochs learn it): the source
    /// task is 0-2, the target task 3-5 (300 test images).
    static let dataset = "synthetic:classes=6,channels=3,size=12,train=2400,test=600,seed=5"
    /// The paper's beta and the protocol budget (eps 2/255, 5 feature steps of 1.25·eps/5).
    static let dm = ObjectiveSettings(kind: .dm, beta: 500, eps: 2 / 255, steps: 5)

    func configuration(classes: String, epochs: Int, objective: ObjectiveSettings?) -> TrainingConfiguration {
        var c = Fixtures.configuration(epochs: epochs, objective: objective, dataset: Self.dataset)
        c.classes = classes
        c.batchSize = 64
        c.threads = 2
        c.seed = 11
        return c
    }

    func testDMKeepsCleanAccuracyAndGainsRobustnessOverFineTuning() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-dm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("robust-source.safetensors").path
        _ = try TrainingRun(configuration(classes: "0-2", epochs: 4, objective: ObjectiveSettings(kind: .pgdAT, eps: 8 / 255, steps: 3)))
            .run(saveTo: source)

        func fineTune(_ objective: ObjectiveSettings?) throws -> (clean: Double, robust: Double) {
            var c = configuration(classes: "3-5", epochs: 4, objective: objective)
            c.initCheckpoint = source
            let model = try TrainingRun(c).run(saveTo: nil).model
            let data = try EvaluationData.load(dataset: Self.dataset, classes: "3-5", split: .test, limit: nil, for: model)
            let report = try RobustnessEvaluator().evaluate(model, on: data, attacks: [AttackSpec(kind: .pgd, eps: Self.dm.resolvedEps, steps: 10)])
            return (report.cleanAccuracy, report.results[0].robustAccuracy)
        }
        let plain = try fineTune(nil)
        let dm = try fineTune(Self.dm)
        print("fine-tune: clean \(plain.clean), PGD-10 2/255 \(plain.robust); DM beta 500: clean \(dm.clean), PGD-10 2/255 \(dm.robust)")
        XCTAssertGreaterThanOrEqual(dm.clean, plain.clean - 0.02, "DM loses at most 2 points of clean accuracy")
        XCTAssertGreaterThan(dm.robust, plain.robust, "DM is more robust at its training eps")
    }
}
