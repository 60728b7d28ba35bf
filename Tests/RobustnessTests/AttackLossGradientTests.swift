import Foundation
import TensorEngine
import XCTest
@testable import Robustness

/// Each attack loss's closed-form output gradient (its backward seed) against central finite
/// differences of the loss itself, as the engine's op tests do.
final class AttackLossGradientTests: XCTestCase {
    func testSeedsMatchFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 9)
        let (n, k) = (3, 4)
        let output = Tensor.normal([n, k], generator: &generator)
        let labels = [0, 2, 3]
        let p = try Tensor.normal([n, k], generator: &generator).softmax()
        let reference = Tensor.normal([n, k], generator: &generator)

        func value(_ loss: AttackLoss, _ z: Tensor) throws -> Double {
            switch loss {
            case let .crossEntropy(labels): return Double(try z.crossEntropy(labels: labels).item) * Double(n)
            case let .margin(labels):
                return (0..<n).reduce(0.0) { total, r in
                    let row = Array(z.values[r * k..<(r + 1) * k])
                    let other = row.enumerated().filter { $0.offset != labels[r] }.map(\.element).max()!
                    return total + Double(other - row[labels[r]])
                }
            case let .klFromClean(p): return Double(try klDivergence(logInput: z.logSoftmax(), target: p).item)
            case let .featureDistance(g0): return Double(try meanSquaredError(z, g0, reduction: .sum).item)
            case let .targetedDLR(labels, targets):
                // AutoAttack's formula, written out: −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2).
                return (0..<n).reduce(0.0) { total, r in
                    let row = Array(z.values[r * k..<(r + 1) * k]), sorted = row.sorted(by: >)
                    return total - Double(row[labels[r]] - row[targets[r]]) / Double(sorted[0] - 0.5 * (sorted[2] + sorted[3]) + 1e-12)
                }
            case let .dlr(labels):
                // AutoAttack's untargeted DLR: −(z_y − max_{j≠y} z_j) / (z_π1 − z_π3).
                return (0..<n).reduce(0.0) { total, r in
                    let row = Array(z.values[r * k..<(r + 1) * k]), sorted = row.sorted(by: >)
                    let other = row.enumerated().filter { $0.offset != labels[r] }.map(\.element).max()!
                    return total - Double(row[labels[r]] - other) / Double(sorted[0] - sorted[2] + 1e-12)
                }
            }
        }

        let targets = [1, 0, 2]
        for loss in [AttackLoss.crossEntropy(labels: labels), .margin(labels: labels), .klFromClean(probabilities: p),
                     .featureDistance(reference: reference), .targetedDLR(labels: labels, targets: targets), .dlr(labels: labels)] {
            let values = loss.values(output: output)
            XCTAssertEqual(values.reduce(0.0) { $0 + Double($1) }, try value(loss, output), accuracy: 1e-4, "\(loss): values sum to the loss")
            let seed = loss.seed(output: output).values
            // The untargeted DLR's scale z_π1 − z_π3 is small on row 0 here (about 0.08): a central
            // difference of c/s has a relative error of (h/s)², 1.6% at h = 1e-2, so it takes a finer step.
            let h: Float
            if case .dlr = loss { h = 1e-3 } else { h = 1e-2 }
            for i in 0..<output.count {
                let plus = output.copy(), minus = output.copy()
                plus.pointer[i] += h
                minus.pointer[i] -= h
                let numeric = (try value(loss, plus) - value(loss, minus)) / Double(2 * h)
                XCTAssertEqual(Double(seed[i]), numeric, accuracy: 2e-3, "\(loss) element \(i)")
            }
        }
    }

    /// With fewer than 4 classes the DLR scale falls back (targeted: z_π1 − z_π3 for 3 classes; 1 for 2,
    /// also untargeted) and the seed still matches.
    func testTargetedDLRWithFewClasses() throws {
        for k in [2, 3] {
            var generator = RandomGenerator(seed: UInt64(k))
            let output = Tensor.normal([2, k], generator: &generator)
            for loss in [AttackLoss.targetedDLR(labels: [0, 1], targets: [1, 0]), .dlr(labels: [0, 1])] {
                let seed = loss.seed(output: output).values
                for i in 0..<output.count {
                    let plus = output.copy(), minus = output.copy()
                    plus.pointer[i] += 1e-2
                    minus.pointer[i] -= 1e-2
                    let numeric = (loss.values(output: plus).reduce(0, +) - loss.values(output: minus).reduce(0, +)) / 2e-2
                    XCTAssertEqual(seed[i], numeric, accuracy: 2e-3, "\(loss), \(k) classes, element \(i)")
                }
            }
        }
    }

    /// Scores order examples by how adversarial they are: for label losses the margin's sign is the verdict.
    func testLabelScoresAreLogitMargins() throws {
        let logits = try Tensor(shape: [2, 3], values: [2, 1, 0, 0, 3, 1])
        XCTAssertEqual(AttackLoss.crossEntropy(labels: [0, 0]).scores(output: logits), [1, -3])
    }
}
