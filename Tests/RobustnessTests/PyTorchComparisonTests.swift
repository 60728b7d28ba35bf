import Foundation
import NeuralNetworks
import TensorEngine
import XCTest
@testable import Robustness

/// FGSM and PGD (no random start) against a PyTorch implementation on the same checkpoint and
/// data (scripts/reference/attack_reference.py): equal robust counts, ±1 example for float rounding.
final class PyTorchComparisonTests: XCTestCase {
    func testFGSMAndPGDMatchPyTorch() throws {
        let python = try TorchReference.python()
        let model = Fixtures.trainedModel
        let data = try Fixtures.testData(for: model)
        let (images, labels) = try Fixtures.batch(data.count, for: model)
        let inputs = try TorchReference.writeInputs(model, images: images, labels: labels)
        defer { try? FileManager.default.removeItem(at: inputs.directory) }
        let eps: Float = 8 / 255, steps = 10
        let output = try TorchReference.run(python, [TorchReference.script("attack_reference.py"),
                                                     inputs.checkpoint, inputs.data, "--eps", "\(eps)", "--steps", "\(steps)"])
        let reference = try TorchReference.counts(output)

        let report = try RobustnessEvaluator().evaluate(model, on: data, attacks: [
            AttackSpec(kind: .fgsm, eps: eps), AttackSpec(kind: .pgd, eps: eps, steps: steps, randomStart: false)])
        let count = { (mask: [Bool]) in mask.filter { $0 }.count }
        XCTAssertEqual(count(report.cleanCorrect), reference["clean"])
        XCTAssertEqual(Double(count(report.results[0].correct)), Double(reference["fgsm"] ?? -9), accuracy: 1, "FGSM")
        XCTAssertEqual(Double(count(report.results[1].correct)), Double(reference["pgd"] ?? -9), accuracy: 1, "PGD")
    }
}
