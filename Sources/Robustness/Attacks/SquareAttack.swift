import NeuralNetworks
import TensorEngine

/// The Square attack (Andriushchenko, Croce, Flammarion & Hein 2020): random search that changes
/// one square window per query and keeps the change when the margin z_y − max_{j≠y} z_j drops.
/// It reads only the model's logits, never a gradient, so it is what still works on a model whose
/// gradients are masked; AutoAttack runs it last.
///
/// The window covers a fraction p of the image that shrinks on the paper's schedule (halved at
/// iterations 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 of 10,000, rescaled to the budget).
/// Every example draws from its own random stream, keyed by its row in the batch.
public enum SquareAttack {
    public static func run(_ model: ImageClassifier, images: Tensor, labels: [Int], settings: SquareSettings,
                           cleanLogits: Tensor? = nil) throws -> AdversarialBatch {
        try settings.validate()
        return try AttackedRows.attackingCorrectRows(model, images: images, labels: labels, cleanLogits: cleanLogits, needsGradients: false) {
            rows, clean in try attack(model, images: images, labels: labels, rows: rows, cleanLogits: clean, settings: settings)
        }
    }

    /// Attacks batch rows `rows`; restarts run on the rows still correct. Must be called inside `AttackScope`.
    static func attack(_ model: ImageClassifier, images: Tensor, labels: [Int], rows: [Int], cleanLogits: Tensor,
                       settings: SquareSettings) throws -> AttackedRows {
        try AttackedRows.bestOverRounds(settings.restarts, images: images, labels: labels, rows: rows, cleanLogits: cleanLogits) { restart, open in
            var generators = open.map { RandomGenerator(seed: settings.seed, stream: "square/restart \(restart)/row \($0)") }
            return try singleRun(model, clean: images.selectingRows(open), labels: open.map { labels[$0] }, settings: settings,
                                 generators: &generators)
        }
    }

    /// One run: an initial perturbation, then `queries − 1` proposals per example at most; an
    /// example stops as soon as it is misclassified. Every example costs at most `queries` model evaluations.
    static func singleRun(_ model: ImageClassifier, clean: Tensor, labels: [Int], settings: SquareSettings,
                          generators: inout [RandomGenerator]) throws -> AttackedRows {
        let initial = SquareProposals.start(clean, norm: settings.norm, eps: settings.eps, generators: &generators)
        let logits = try withoutGradients { try model(initial) }
        var found = AttackedRows(images: initial, logits: logits, fooled: labels.indices.map { logits.predictedClass(row: $0) != labels[$0] },
                                 zeroGradients: 0)
        var margins = AttackLoss.margin(labels: labels).scores(output: logits)
        var active = labels.indices.filter { !found.fooled[$0] }
        let iterations = settings.queries - 1
        for iteration in 0..<iterations where !active.isEmpty {
            let fraction = windowFraction(iteration: iteration, of: iterations, initial: settings.initialFraction)
            let proposals = SquareProposals.propose(clean: clean, best: found.images, rows: active, fraction: fraction,
                                                    norm: settings.norm, eps: settings.eps, generators: &generators)
            let proposed = try withoutGradients { try model(proposals) }
            let activeLabels = active.map { labels[$0] }
            let proposedMargins = AttackLoss.margin(labels: activeLabels).scores(output: proposed)
            var stillActive: [Int] = []
            for (j, r) in active.enumerated() {
                if proposedMargins[j] < margins[r] {
                    margins[r] = proposedMargins[j]
                    PerturbationKernels.copyRow(j, into: r, from: proposals, to: found.images)
                    PerturbationKernels.copyRow(j, into: r, from: proposed, to: found.logits)
                    if proposed.predictedClass(row: j) != activeLabels[j] { found.fooled[r] = true; continue }
                }
                stillActive.append(r)
            }
            active = stillActive
        }
        return found
    }

    /// The paper's p at `iteration` of `iterations`, its schedule for 10,000 rescaled to the budget.
    static func windowFraction(iteration: Int, of iterations: Int, initial: Float) -> Float {
        let scaled = Int(Double(iteration) / Double(max(iterations, 1)) * 10000)
        let halvings: Int
        switch scaled {
        case ...10: halvings = 0
        case ...50: halvings = 1
        case ...200: halvings = 2
        case ...500: halvings = 3
        case ...1000: halvings = 4
        case ...2000: halvings = 5
        case ...4000: halvings = 6
        case ...6000: halvings = 7
        case ...8000: halvings = 8
        default: halvings = 9
        }
        return initial / Float(1 << halvings)
    }
}
