/// Sanity checks of an evaluation: each failure means the numbers should not be trusted as they are.
enum RobustnessWarnings {
    /// More than this fraction of exactly-zero input gradients suggests gradient masking.
    static let maskedGradientFraction = 0.5

    static func check(cleanAccuracy: Double, results: [AttackResult]) -> [String] {
        var warnings: [String] = []
        for r in results {
            if r.eps == 0 && r.robustAccuracy != cleanAccuracy {
                warnings.append("\(r.attack) \(r.norm) at eps 0 gives robust accuracy \(r.robustAccuracy), not the clean accuracy \(cleanAccuracy): the attack changes inputs it must leave alone")
            }
            if r.zeroGradientFraction > maskedGradientFraction {
                warnings.append(String(format: "\(r.attack) \(r.norm) eps %g: %.0f%% of examples have an exactly zero input gradient (gradient masking: gradient attacks overestimate robustness)",
                                       r.eps, 100 * r.zeroGradientFraction))
            }
        }
        for fgsm in results where fgsm.attack == AttackKind.fgsm.rawValue {
            for pgd in results where pgd.attack == AttackKind.pgd.rawValue && pgd.norm == fgsm.norm && pgd.eps == fgsm.eps
                && pgd.robustAccuracy > fgsm.robustAccuracy {
                warnings.append(String(format: "FGSM is stronger than PGD at eps %g (robust accuracy %.4f vs %.4f): PGD is not converging (more steps or a larger step size) or the gradients are masked",
                                       fgsm.eps, fgsm.robustAccuracy, pgd.robustAccuracy))
            }
        }
        return warnings
    }
}

import Foundation
