import Foundation
import NeuralNetworks
import TensorEngine
import XCTest
@testable import Robustness

/// rt's APGD-CE, APGD-T and Square against torchattacks (an independent implementation, PyPI) on
/// the same checkpoint and examples: robust accuracy within 1 point (scripts/reference/
/// autoattack_reference.py). Skipped without torch and torchattacks. The 1,000-example Fashion-MNIST
/// comparison is scripts/reference/autoattack_agreement.sh (docs/ROBUSTNESS.md has its numbers).
final class AutoAttackReferenceTests: XCTestCase {
    func testAgreesWithTorchattacks() throws {
        let python = try TorchReference.torchattacksPython()
        let (model, data, _, labels, inputs) = try TorchReference.tenClassInputs()
        defer { try? FileManager.default.removeItem(at: inputs.directory) }
        let (eps, steps, queries): (Float, Int, Int) = (2 / 255, 25, 300)
        let output = try TorchReference.run(python, [TorchReference.script("autoattack_reference.py"), inputs.checkpoint, inputs.data,
                                                     "--eps", "\(eps)", "--steps", "\(steps)", "--queries", "\(queries)", "--threads", "1"])
        let reference = try TorchReference.counts(output)

        let kinds: [AttackKind] = [.apgdCE, .apgdT, .square]
        let report = try RobustnessEvaluator(batchSize: 250).evaluate(model, on: data, attacks: kinds.map {
            AttackSpec(kind: $0, eps: eps, steps: steps, seed: 1, queries: $0 == .square ? queries : nil)
        })
        let n = Double(labels.count)
        XCTAssertEqual(report.cleanCorrect.filter { $0 }.count, reference["clean"])
        for (kind, result) in zip(kinds, report.results) {
            let theirs = Double(reference[kind.rawValue] ?? -1000) / n
            print("\(kind.rawValue) linf eps \(eps), \(labels.count) examples: rt \(result.robustAccuracy), torchattacks \(theirs)")
            XCTAssertEqual(result.robustAccuracy, theirs, accuracy: 0.01, "\(kind.rawValue): within 1 point of torchattacks")
        }
    }
}
