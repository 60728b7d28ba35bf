import XCTest
@testable import Robustness

/// The sanity checks fire on the numbers that should not be trusted, and only on those.
final class WarningTests: XCTestCase {
    func result(_ attack: AttackKind, eps: Float, robust: Double, zeroGradients: Double = 0) -> AttackResult {
        AttackResult(attack: attack.rawValue, norm: "linf", eps: eps, steps: attack == .fgsm ? 1 : 10, robustAccuracy: robust,
                     successRate: 0, meanTrueConfidenceClean: 0.9, meanTrueConfidenceAdversarial: 0.5, correct: [],
                     zeroGradientFraction: zeroGradients, seconds: 1, cpuSeconds: 1)
    }

    func testEachCheckFiresOnItsCase() {
        let sound = [result(.fgsm, eps: 0, robust: 0.9), result(.fgsm, eps: 0.03, robust: 0.5), result(.pgd, eps: 0.03, robust: 0.4)]
        XCTAssertEqual(RobustnessWarnings.check(cleanAccuracy: 0.9, results: sound), [])

        let zeroChanges = RobustnessWarnings.check(cleanAccuracy: 0.9, results: [result(.pgd, eps: 0, robust: 0.8)])
        XCTAssertEqual(zeroChanges.count, 1)
        XCTAssertTrue(zeroChanges[0].contains("eps 0"))

        let masked = RobustnessWarnings.check(cleanAccuracy: 0.9, results: [result(.pgd, eps: 0.03, robust: 0.8, zeroGradients: 0.7)])
        XCTAssertEqual(masked.count, 1)
        XCTAssertTrue(masked[0].contains("gradient masking"))

        let fgsmStronger = RobustnessWarnings.check(cleanAccuracy: 0.9, results: [result(.fgsm, eps: 0.03, robust: 0.3),
                                                                                 result(.pgd, eps: 0.03, robust: 0.4),
                                                                                 result(.pgd, eps: 0.06, robust: 0.35)])
        XCTAssertEqual(fgsmStronger.count, 1, "only PGD at the same eps is compared")
        XCTAssertTrue(fgsmStronger[0].contains("FGSM is stronger than PGD"))
    }
}
