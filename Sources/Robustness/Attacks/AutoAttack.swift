import Foundation
import NeuralNetworks
import TensorEngine

/// What AutoAttack found for one batch.
public struct AutoAttackBatch {
    /// The worst case per example: the first component's misclassified point, else the point
    /// nearest to the decision boundary over all components.
    public var adversarial: AdversarialBatch
    /// Per example, the index in `AutoAttack.components` of the attack that broke it; nil when
    /// none did or the clean input is already misclassified.
    public var brokenBy: [Int?]
    /// Wall seconds each component took on this batch.
    public var componentSeconds: [Double]
}

/// AutoAttack's standard version (Croce & Hein 2020): APGD-CE, APGD-T (9 target classes) and
/// Square, in that order, each on the examples that every attack before it left correct; an
/// example is robust only when all of them fail. FAB-T, the fourth attack of the standard version,
/// is not implemented (docs/ROBUSTNESS.md): in the paper it rarely breaks an example that
/// APGD-T and Square leave.
public enum AutoAttack {
    public static let components = [AttackKind.apgdCE.rawValue, AttackKind.apgdT.rawValue, AttackKind.square.rawValue]

    public static func run(_ model: ImageClassifier, images: Tensor, labels: [Int], settings: AutoAttackSettings,
                           cleanLogits: Tensor? = nil) throws -> AutoAttackBatch {
        try settings.validate()
        var brokenBy = [Int?](repeating: nil, count: labels.count)
        var seconds = [Double](repeating: 0, count: components.count)
        let adversarial = try AttackedRows.attackingCorrectRows(model, images: images, labels: labels, cleanLogits: cleanLogits,
                                                                needsGradients: true) { rows, clean in
            let cleanRow = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1, $0) })
            return try AttackedRows.bestOverRounds(components.count, images: images, labels: labels, rows: rows, cleanLogits: clean) { component, open in
                let started = Date()
                defer { seconds[component] = Date().timeIntervalSince(started) }
                let openClean = clean.selectingRows(open.map { cleanRow[$0]! })
                let found: AttackedRows
                switch component {
                case 0: found = try AutoPGD.attack(model, images: images, labels: labels, rows: open, cleanLogits: openClean, settings: settings.crossEntropy)
                case 1: found = try AutoPGD.attack(model, images: images, labels: labels, rows: open, cleanLogits: openClean, settings: settings.targeted)
                default: found = try SquareAttack.attack(model, images: images, labels: labels, rows: open, cleanLogits: openClean, settings: settings.square)
                }
                for (j, row) in open.enumerated() where found.fooled[j] { brokenBy[row] = component }
                return found
            }
        }
        return AutoAttackBatch(adversarial: adversarial, brokenBy: brokenBy, componentSeconds: seconds)
    }
}
