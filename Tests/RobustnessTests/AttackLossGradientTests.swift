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
            }
        }

        for loss in [AttackLoss.crossEntropy(labels: labels), .margin(labels: labels), .klFromClean(probabilities: p),
                     .featureDistance(reference: reference)] {
            let seed = loss.seed(output: output).values
            let h: Float = 1e-2
            for i in 0..<output.count {
                let plus = output.copy(), minus = output.copy()
                plus.pointer[i] += h
                minus.pointer[i] -= h
                let numeric = (try value(loss, plus) - value(loss, minus)) / Double(2 * h)
                XCTAssertEqual(Double(seed[i]), numeric, accuracy: 2e-3, "\(loss) element \(i)")
            }
        }
    }

    /// Scores order examples by how adversarial they are: for label losses the margin's sign is the verdict.
    func testLabelScoresAreLogitMargins() throws {
        let logits = try Tensor(shape: [2, 3], values: [2, 1, 0, 0, 3, 1])
        XCTAssertEqual(AttackLoss.crossEntropy(labels: [0, 0]).scores(output: logits), [1, -3])
    }
}
