import XCTest
@testable import Robustness

/// The sanity checks fire on the numbers that should not be trusted, and only on those.
final class WarningTests: XCTestCase {
    func result(_ attack: AttackKind, eps: Float, robust: Double, zeroGradients: Double = 0,
                components: [Double]? = nil) -> AttackResult {
        AttackResult(attack: attack.rawValue, norm: "linf", eps: eps, steps: attack == .fgsm ? 1 : 10, robustAccuracy: robust,
                     successRate: 0, meanTrueConfidenceClean: 0.9, meanTrueConfidenceAdversarial: 0.5, correct: [],
                     zeroGradientFraction: zeroGradients, seconds: 1, cpuSeconds: 1,
                     components: components.map { zip(AutoAttackVersion.standard.components, $0).map {
                         AttackComponentResult(attack: $0, steps: 10, robustAccuracy: $1, correct: [], seconds: 1)
                     } })
    }

    func testAutoAttackChecks() {
        let sound = [result(.pgd, eps: 0.03, robust: 0.41), result(.apgdCE, eps: 0.03, robust: 0.40), result(.square, eps: 0.03, robust: 0.45),
                     result(.autoattack, eps: 0.03, robust: 0.38, components: [0.40, 0.38, 0.38]),
                     result(.pgd, eps: 0.06, robust: 0.20), result(.autoattack, eps: 0.06, robust: 0.18, components: [0.2, 0.18, 0.18])]
        XCTAssertEqual(RobustnessWarnings.check(cleanAccuracy: 0.9, results: sound), [])

        let squareInside = RobustnessWarnings.check(cleanAccuracy: 0.9, results: [result(.autoattack, eps: 0.03, robust: 0.30, components: [0.4, 0.38, 0.30])])
        XCTAssertEqual(squareInside.count, 1)
        XCTAssertTrue(squareInside[0].contains("Square lowered"), squareInside[0])

        let squareAlone = RobustnessWarnings.check(cleanAccuracy: 0.9, results: [result(.apgdT, eps: 0.03, robust: 0.4), result(.square, eps: 0.03, robust: 0.3)])
        XCTAssertEqual(squareAlone.count, 1)
        XCTAssertTrue(squareAlone[0].contains("Square (no gradients) is stronger"), squareAlone[0])

        let rising = RobustnessWarnings.check(cleanAccuracy: 0.9, results: [result(.apgdCE, eps: 0.03, robust: 0.3), result(.apgdCE, eps: 0.06, robust: 0.35)])
        XCTAssertEqual(rising.count, 1)
        XCTAssertTrue(rising[0].contains("rises with eps"), rising[0])
        XCTAssertEqual(RobustnessWarnings.check(cleanAccuracy: 0.9, results: [result(.apgdCE, eps: 0.03, robust: 0.3),
                                                                             result(.apgdCE, eps: 0.06, robust: 0.304)]), [],
                       "within the sampling margin")

        let disagree = RobustnessWarnings.check(cleanAccuracy: 0.9, results: [result(.pgd, eps: 0.03, robust: 0.5),
                                                                             result(.autoattack, eps: 0.03, robust: 0.38, components: [0.40, 0.38, 0.38])])
        XCTAssertEqual(disagree.count, 1)
        XCTAssertTrue(disagree[0].contains("PGD-10 and APGD-CE disagree") && disagree[0].contains("PGD overestimates"), disagree[0])
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
