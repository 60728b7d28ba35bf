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

/// Which of AutoAttack's versions runs (Croce & Hein's `version=`).
public enum AutoAttackVersion: String, Codable, Sendable, CaseIterable {
    /// APGD-CE, APGD-T (9 target classes) and Square: for deterministic models.
    case standard
    /// APGD-CE and APGD-DLR, each averaging the input gradient over `eotIterations` passes
    /// (expectation over transformation, 20 in AutoAttack): for models with randomness.
    case rand

    /// The attacks in the order they run, by their names on the command line.
    public var components: [String] {
        switch self {
        case .standard: return [AttackKind.apgdCE.rawValue, AttackKind.apgdT.rawValue, AttackKind.square.rawValue]
        case .rand: return [AttackKind.apgdCE.rawValue, AttackKind.apgdDLR.rawValue]
        }
    }
}

/// AutoAttack (Croce & Hein 2020): its attacks in sequence, each on the examples that every attack
/// before it left correct; an example is robust only when all of them fail.
///
/// The standard version runs APGD-CE, APGD-T and Square. FAB-T, its fourth attack, is not
/// implemented (docs/ROBUSTNESS.md): in the paper it rarely breaks an example that APGD-T and
/// Square leave. The `rand` version runs APGD-CE and APGD-DLR with expectation over
/// transformation and, as AutoAttack does, counts an example as broken only when a fresh forward
/// pass at the attack's point misclassifies it too: for a randomised model one lucky sample is
/// not a success.
public enum AutoAttack {
    public static func run(_ model: ImageClassifier, images: Tensor, labels: [Int], settings: AutoAttackSettings,
                           cleanLogits: Tensor? = nil) throws -> AutoAttackBatch {
        try settings.validate()
        let components = settings.version.components
        var brokenBy = [Int?](repeating: nil, count: labels.count)
        var seconds = [Double](repeating: 0, count: components.count)
        let adversarial = try AttackedRows.attackingCorrectRows(model, images: images, labels: labels, cleanLogits: cleanLogits,
                                                                needsGradients: true) { rows, clean in
            let cleanRow = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1, $0) })
            return try AttackedRows.bestOverRounds(components.count, images: images, labels: labels, rows: rows, cleanLogits: clean) { component, open in
                let started = Date()
                defer { seconds[component] = Date().timeIntervalSince(started) }
                let openClean = clean.selectingRows(open.map { cleanRow[$0]! })
                var found: AttackedRows
                switch (settings.version, component) {
                case (_, 0): found = try AutoPGD.attack(model, images: images, labels: labels, rows: open, cleanLogits: openClean, settings: settings.crossEntropy)
                case (.standard, 1): found = try AutoPGD.attack(model, images: images, labels: labels, rows: open, cleanLogits: openClean, settings: settings.targeted)
                case (.standard, _): found = try SquareAttack.attack(model, images: images, labels: labels, rows: open, cleanLogits: openClean, settings: settings.square)
                case (.rand, _): found = try AutoPGD.attack(model, images: images, labels: labels, rows: open, cleanLogits: openClean, settings: settings.dlr)
                }
                if settings.version == .rand { try found.confirmingFooledRows(model, labels: open.map { labels[$0] }) }
                for (j, row) in open.enumerated() where found.fooled[j] { brokenBy[row] = component }
                return found
            }
        }
        return AutoAttackBatch(adversarial: adversarial, brokenBy: brokenBy, componentSeconds: seconds)
    }
}

extension AttackedRows {
    /// A fooled row stays fooled only when one more forward pass at its point misclassifies it too
    /// (its logits become that pass's); on a deterministic model that pass repeats the attack's.
    /// Must be called inside `AttackScope`.
    mutating func confirmingFooledRows(_ model: ImageClassifier, labels: [Int]) throws {
        let fooledRows = fooled.indices.filter { fooled[$0] }
        guard !fooledRows.isEmpty else { return }
        let fresh = try withoutGradients { try model(images.selectingRows(fooledRows)) }
        for (j, row) in fooledRows.enumerated() {
            fooled[row] = fresh.predictedClass(row: j) != labels[row]
            PerturbationKernels.copyRow(j, into: row, from: fresh, to: logits)
        }
    }
}
