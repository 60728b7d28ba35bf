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
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-attack-ref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoint = directory.appendingPathComponent("model.safetensors").path
        let dataPath = directory.appendingPathComponent("data.safetensors").path
        try Checkpoint.save(model, to: checkpoint)
        try SafeTensors.write(SafeTensorsFile(tensors: [("images", images),
                                                        ("labels", try Tensor(shape: [labels.count], values: labels.map(Float.init)))]),
                              to: dataPath)
        let eps: Float = 8 / 255, steps = 10
        let output = try TorchReference.run(python, [TorchReference.script("attack_reference.py"),
                                                     checkpoint, dataPath, "--eps", "\(eps)", "--steps", "\(steps)"])
        let line = try XCTUnwrap(output.split(separator: "\n").last)
        let reference = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Int])

        let report = try RobustnessEvaluator().evaluate(model, on: data, attacks: [
            AttackSpec(kind: .fgsm, eps: eps), AttackSpec(kind: .pgd, eps: eps, steps: steps, randomStart: false)])
        let count = { (mask: [Bool]) in mask.filter { $0 }.count }
        XCTAssertEqual(count(report.cleanCorrect), reference["clean"])
        XCTAssertEqual(Double(count(report.results[0].correct)), Double(reference["fgsm"] ?? -9), accuracy: 1, "FGSM")
        XCTAssertEqual(Double(count(report.results[1].correct)), Double(reference["pgd"] ?? -9), accuracy: 1, "PGD")
    }
}
