import TensorEngine

/// What one more forward pass of the first clean batch says about the model (AutoAttack's checks).
struct ModelOutputFindings: Equatable {
    /// Largest difference between two calls on the same inputs, relative to the largest output.
    var variation: Float = 0
    var looksLikeProbabilities = false
    /// Whether the two calls were made (false: nothing is known about the model).
    var measured = false

    init() {}

    init(first: Tensor, second: Tensor) {
        measured = true
        let (a, b) = (first.values, second.values)
        let scale = max(a.map(abs).max() ?? 0, 1)
        variation = zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
        let k = first.shape[1]
        let rowsSumToOne = stride(from: 0, to: a.count, by: k).allSatisfy { abs(a[$0..<$0 + k].reduce(0, +) - 1) < 1e-4 }
        looksLikeProbabilities = !a.isEmpty && a.allSatisfy { $0 >= 0 && $0 <= 1 } && rowsSumToOne
    }
}

/// Sanity checks of an evaluation: each failure means the numbers should not be trusted as they are.
enum RobustnessWarnings {
    /// More than this fraction of exactly-zero input gradients suggests gradient masking.
    static let maskedGradientFraction = 0.5
    /// Outputs that differ by more than this (relative) between two calls come from a randomised model.
    static let outputVariation: Float = 1e-5
    /// Square may lower the white-box attacks' robust accuracy by this much before it is a warning (AutoAttack's 0.2 points).
    static let squareMargin = 0.002
    /// Robust accuracy may rise with eps by this much (sampling noise of random starts) before it is a warning.
    static let monotonicityMargin = 0.005
    /// PGD and APGD at the same budget may differ by this much.
    static let pgdAPGDMargin = 0.03

    static let whiteBox: Set<String> = Set([AttackKind.fgsm, .pgd, .mifgsm, .diMIFGSM, .cw, .apgdCE, .apgdT, .apgdDLR, .autoattackRand].map(\.rawValue))

    static func check(cleanAccuracy: Double, results: [AttackResult], model: ModelOutputFindings = ModelOutputFindings()) -> [String] {
        var warnings: [String] = []
        let averaging = results.filter { ($0.eotIterations ?? 1) > 1 }.map(\.attack)
        if model.variation > outputVariation {
            let advice = averaging.isEmpty ? "attacks need expectation over transformation: use autoattack-rand (AutoAttack's rand version)"
                : "only attacks with expectation over transformation (here \(Set(averaging).sorted().joined(separator: ", "))) measure it soundly"
            warnings.append(String(format: "the model's outputs differ between two calls on the same inputs (by %.2g of their scale): it is randomised, and ", model.variation) + advice)
        } else if model.measured, let rand = results.first(where: { $0.attack == AttackKind.autoattackRand.rawValue }) {
            warnings.append("autoattack-rand on a model whose outputs are the same on two calls: its \(rand.eotIterations ?? 1) passes per iteration average identical gradients, and it lacks APGD-T and Square; autoattack (the standard version) is stronger and cheaper here")
        }
        if model.looksLikeProbabilities {
            warnings.append("the model's outputs lie in [0, 1] and sum to 1 for every example: they look like probabilities, not logits; cross-entropy, DLR and margin losses are then computed on the wrong quantity and attacks are weakened")
        }
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
        warnings += squareBeatsWhiteBox(results)
        warnings += risesWithEps(results)
        warnings += pgdDisagreesWithAPGD(results)
        return warnings
    }

    /// A score-based attack that breaks examples the gradient attacks could not: their gradients mislead.
    static func squareBeatsWhiteBox(_ results: [AttackResult]) -> [String] {
        var warnings: [String] = []
        for r in results {
            guard let components = r.components, let square = components.firstIndex(where: { $0.attack == AttackKind.square.rawValue }),
                  square > 0 else { continue }
            let before = components[square - 1].robustAccuracy, after = components[square].robustAccuracy
            if before - after > squareMargin {
                warnings.append(String(format: "autoattack \(r.norm) eps %g: Square lowered the robust accuracy the gradient attacks left from %.4f to %.4f: the gradients are masked or misleading, trust the black-box number",
                                       r.eps, before, after))
            }
        }
        for square in results where square.attack == AttackKind.square.rawValue {
            let white = results.filter { whiteBox.contains($0.attack) && $0.norm == square.norm && $0.eps == square.eps }
            guard let strongest = white.min(by: { $0.robustAccuracy < $1.robustAccuracy }),
                  strongest.robustAccuracy - square.robustAccuracy > squareMargin else { continue }
            warnings.append(String(format: "Square (no gradients) is stronger than every gradient attack at \(square.norm) eps %g (robust accuracy %.4f vs %.4f for \(strongest.attack)): the gradients are masked or misleading",
                                   square.eps, square.robustAccuracy, strongest.robustAccuracy))
        }
        return warnings
    }

    /// A larger budget can only make a sound attack stronger.
    static func risesWithEps(_ results: [AttackResult]) -> [String] {
        var warnings: [String] = []
        let groups = Dictionary(grouping: results) { "\($0.attack) \($0.norm)" }
        for name in groups.keys.sorted() {
            let curve = groups[name]!.sorted { $0.eps < $1.eps }
            for (smaller, larger) in zip(curve, curve.dropFirst())
            where larger.eps > smaller.eps && larger.robustAccuracy - smaller.robustAccuracy > monotonicityMargin {
                warnings.append(String(format: "\(name): robust accuracy rises with eps, %.4f at %g but %.4f at %g: the attack is not converging (or the gradients are masked)",
                                       smaller.robustAccuracy, smaller.eps, larger.robustAccuracy, larger.eps))
            }
        }
        return warnings
    }

    /// PGD and APGD-CE maximise the same loss; far apart, one of them is not doing its job.
    static func pgdDisagreesWithAPGD(_ results: [AttackResult]) -> [String] {
        var warnings: [String] = []
        for pgd in results where pgd.attack == AttackKind.pgd.rawValue {
            for other in results where other.norm == pgd.norm && other.eps == pgd.eps {
                let apgd: Double
                if other.attack == AttackKind.apgdCE.rawValue {
                    apgd = other.robustAccuracy
                } else if let component = other.components?.first(where: { $0.attack == AttackKind.apgdCE.rawValue }) {
                    apgd = component.robustAccuracy
                } else { continue }
                guard abs(pgd.robustAccuracy - apgd) > pgdAPGDMargin else { continue }
                let verdict = apgd < pgd.robustAccuracy
                    ? "PGD overestimates robustness (too few steps, a badly chosen step size, or masked gradients)"
                    : "APGD is weaker than PGD, which it should never be: look at the model's gradients and outputs"
                warnings.append(String(format: "PGD-%d and APGD-CE disagree at \(pgd.norm) eps %g by more than %.0f points (robust accuracy %.4f vs %.4f): ",
                                       pgd.steps, pgd.eps, 100 * pgdAPGDMargin, pgd.robustAccuracy, apgd) + verdict)
            }
        }
        return warnings
    }
}
