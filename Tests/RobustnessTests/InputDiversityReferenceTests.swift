import Foundation
import NeuralNetworks
import TensorEngine
import XCTest
@testable import Robustness

/// rt's DI-MI-FGSM against PyTorch and torchattacks' DIFGSM (scripts/reference/
/// input_diversity_reference.py) on the same checkpoint and 500 examples. Skipped without torch
/// and torchattacks (scripts/reference/setup_torch.sh).
///
/// The deterministic parts exactly: for given placements, rt's resize and pad and their gradient
/// equal PyTorch's (F.interpolate bilinear, align_corners=False, then F.pad); with
/// diversity_prob 0 the two attacks are MI-FGSM and break the same examples. The random draws
/// cannot match (two generators), so the robust accuracy is compared as a mean over seeds.
final class InputDiversityReferenceTests: XCTestCase {
    func testAgreesWithTorchattacksDIFGSM() throws {
        let python = try TorchReference.torchattacksPython()
        let (model, data, images, labels, inputs) = try TorchReference.tenClassInputs()
        defer { try? FileManager.default.removeItem(at: inputs.directory) }
        let out = inputs.directory.appendingPathComponent("gradients.safetensors").path
        let placements = [InputDiversity.Placement(size: 10, top: 1, left: 0), .init(size: 11, top: 0, left: 0), .init(size: 10, top: 0, left: 1)]
        let (eps, steps, seeds): (Float, Int, Int) = (2 / 255, 10, Self.seeds)
        let output = try TorchReference.run(python, [
            TorchReference.script("input_diversity_reference.py"), inputs.checkpoint, inputs.data, out,
            "--eps", "\(eps)", "--steps", "\(steps)", "--prob", "0.5", "--resize-rate", "0.9", "--seeds", "\(seeds)",
            "--placements", placements.map { "\($0.size),\($0.top),\($0.left)" }.joined(separator: ";"),
        ])
        let line = try XCTUnwrap(output.split(separator: "\n").last)
        let reference = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])

        // Deterministic: the transform and the gradient of sum(T(x)·w) through it, placement by placement.
        let torchResults = try SafeTensors.read(out)
        for (i, placement) in placements.enumerated() {
            let x = images.detached()
            x.requiresGrad = true
            let transformed = try InputDiversity.apply(placement, to: x)
            let weights = try Tensor(shape: transformed.shape, values: (0..<transformed.count).map { Float($0 % 7) / 7 - 0.5 })
            try transformed.backward(seed: weights)
            for (name, ours) in [("transformed", transformed), ("gradient", try XCTUnwrap(x.grad))] {
                let theirs = try XCTUnwrap(torchResults["\(name)_\(i)"])
                XCTAssertEqual(theirs.shape, ours.shape)
                let difference = zip(ours.values, theirs.values).map { abs($0 - $1) }.max()!
                print("placement \(placement): max |rt − torch| \(name) \(difference)")
                XCTAssertLessThanOrEqual(difference, 1e-5, "placement \(placement), \(name)")
            }
        }

        // p = 0: both are MI-FGSM.
        let n = Double(labels.count)
        let plain = try RobustnessEvaluator(batchSize: 500).evaluate(model, on: data, attacks: [
            AttackSpec(kind: .diMIFGSM, eps: eps, steps: steps, diversity: InputDiversity(probability: 0))])
        XCTAssertEqual(plain.cleanCorrect.filter { $0 }.count, reference["clean"] as? Int)
        let theirPlain = try XCTUnwrap(reference["p0"] as? Int)
        print("p 0: rt \(plain.results[0].robustAccuracy), torchattacks \(Double(theirPlain) / n)")
        XCTAssertEqual(plain.results[0].robustAccuracy, Double(theirPlain) / n, accuracy: 1.5 / n, "at most one example apart")

        // p = 0.5: robust accuracy, mean over seeds.
        let theirs = try XCTUnwrap(reference["di"] as? [Int]).map { Double($0) / n }
        let ours = try (0..<seeds).map { seed in
            try RobustnessEvaluator(batchSize: 500).evaluate(model, on: data, attacks: [
                AttackSpec(kind: .diMIFGSM, eps: eps, steps: steps, seed: UInt64(seed))]).results[0].robustAccuracy
        }
        let (ourMean, theirMean) = (ours.reduce(0, +) / Double(seeds), theirs.reduce(0, +) / Double(seeds))
        print("p 0.5, \(seeds) seeds: rt \(ours) mean \(ourMean); torchattacks \(theirs) mean \(theirMean)")
        XCTAssertEqual(ourMean, theirMean, accuracy: Self.tolerance, "mean robust accuracy over \(seeds) seeds")
    }

    static let seeds = 5
    /// Mean robust accuracy over the seeds, within this (see docs/ROBUSTNESS.md for the measured spread).
    static let tolerance = 0.015
}
