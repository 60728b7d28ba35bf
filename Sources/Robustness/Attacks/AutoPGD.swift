import NeuralNetworks
import TensorEngine

/// APGD (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of
/// diverse parameter-free attacks"): projected gradient ascent whose step size needs no tuning.
///
/// It starts at 2·eps and is halved, per example, at the paper's checkpoints when the loss rose in
/// fewer than ρ = 75% of the steps since the last checkpoint, or when neither the step size nor the
/// best loss changed since then; on halving the iterate goes back to the example's best point. The
/// iterates follow a momentum of α = 0.75. Each example keeps its best point: the first
/// misclassified iterate (it then leaves the batch: nothing is left to find), else the
/// highest-loss one. APGD-CE maximises cross-entropy; APGD-T the targeted DLR loss towards each of
/// the top-k other classes in turn, on the examples still correct.
public enum AutoPGD {
    /// Attacks the rows of `images` the model classifies correctly (`cleanLogits`: its logits on the
    /// clean batch, computed when nil). Misclassified rows come back unchanged.
    public static func run(_ model: ImageClassifier, images: Tensor, labels: [Int], settings: AutoPGDSettings,
                           cleanLogits: Tensor? = nil) throws -> AdversarialBatch {
        try settings.validate()
        return try AttackedRows.attackingCorrectRows(model, images: images, labels: labels, cleanLogits: cleanLogits, needsGradients: true) {
            rows, clean in try attack(model, images: images, labels: labels, rows: rows, cleanLogits: clean, settings: settings)
        }
    }

    /// Attacks batch rows `rows` (`cleanLogits`: theirs, in that order). Must be called inside `AttackScope`.
    static func attack(_ model: ImageClassifier, images: Tensor, labels: [Int], rows: [Int], cleanLogits: Tensor,
                       settings: AutoPGDSettings) throws -> AttackedRows {
        // The target classes by clean logit, for APGD-T: rank 1 is the runner-up.
        let targetRanks: [Int?]
        switch settings.objective {
        case .crossEntropy, .dlr: targetRanks = [nil]
        case let .targetedDLR(k): targetRanks = Array(1...max(1, min(k, cleanLogits.shape[1] - 1)))
        }
        let cleanRow = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1, $0) })
        return try AttackedRows.bestOverRounds(targetRanks.count * settings.restarts, images: images, labels: labels, rows: rows,
                                               cleanLogits: cleanLogits) { round, open in
            let (rank, restart) = (targetRanks[round / settings.restarts], round % settings.restarts)
            let openLabels = open.map { labels[$0] }
            let loss: AttackLoss = rank.map { rank in
                .targetedDLR(labels: openLabels, targets: open.map { cleanLogits.rankedClass(row: cleanRow[$0]!, rank: rank) })
            } ?? (settings.objective == .dlr ? .dlr(labels: openLabels) : .crossEntropy(labels: openLabels))
            let stream = rank.map { "apgd-t/target \($0)" } ?? (settings.objective == .dlr ? "apgd-dlr" : "apgd-ce")
            var generators = open.map { RandomGenerator(seed: settings.seed, stream: "\(stream)/restart \(restart)/row \($0)") }
            return try singleRun(model, clean: images.selectingRows(open), loss: loss, settings: settings, generators: &generators)
        }
    }

    /// One run of `settings.steps` iterations from a random start, on every row of `clean`.
    static func singleRun(_ model: ImageClassifier, clean: Tensor, loss: AttackLoss, settings: AutoPGDSettings,
                          generators: inout [RandomGenerator]) throws -> AttackedRows {
        let m = clean.shape[0]
        let adv = AutoPGDStep.start(clean, norm: settings.norm, eps: settings.eps, generators: &generators)
        let first = try evaluate(model, at: adv, loss: loss, eotIterations: settings.eotIterations)
        var found = AttackedRows(images: clean.copy(), logits: first.logits.copy(), fooled: Array(repeating: false, count: m),
                                 zeroGradients: PerturbationKernels.zeroGradientExamples(first.gradient))
        let state = AutoPGDRunState(clean: clean, start: adv, loss: loss, first: first, initialStep: 2 * settings.eps)
        state.retireMisclassified(first.logits, into: &found)

        let checkpoints = checkpointSchedule(steps: settings.steps)
        var lastCheckpoint = 0
        for iteration in 1...settings.steps where !state.isEmpty {
            // The first step has no previous move to keep momentum from.
            AutoPGDStep.step(state.adv, previous: state.previous, gradient: state.gradient, clean: state.clean, stepSizes: state.stepSizes,
                             eps: settings.eps, norm: settings.norm, momentum: iteration == 1 ? 1 : AutoPGDSettings.momentum)
            let evaluation = try evaluate(model, at: state.adv, loss: state.loss, eotIterations: settings.eotIterations)
            state.record(evaluation)
            state.retireMisclassified(evaluation.logits, into: &found)
            if checkpoints.contains(iteration) {
                state.checkpoint(window: iteration - lastCheckpoint)
                lastCheckpoint = iteration
            }
        }
        state.returnBestPoints(into: &found)
        return found
    }

    /// The iteration counts after which APGD decides whether to halve the step: w_j = ⌈p_j·steps⌉ with
    /// p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06), in hundredths to stay exact.
    static func checkpointSchedule(steps: Int) -> Set<Int> {
        var (previous, current) = (0, 22)
        var checkpoints = Set<Int>()
        while true {
            let w = (current * steps + 99) / 100
            if w > steps { return checkpoints }
            checkpoints.insert(max(w, 1))
            (previous, current) = (current, current + max(current - previous - 3, 6))
        }
    }

    struct Evaluation {
        var logits: Tensor
        var values: [Float]
        var gradient: Tensor
    }

    /// The model's logits at x, the per-example loss and its input gradient: one forward and one
    /// backward pass, or, with expectation over transformation, the mean input gradient of
    /// `eotIterations` of them. As in AutoAttack, the logits and loss values are the last pass's
    /// (a randomised model gives other ones each call; a deterministic one the same).
    static func evaluate(_ model: ImageClassifier, at x: Tensor, loss: AttackLoss, eotIterations: Int = 1) throws -> Evaluation {
        var sum: Tensor?
        var logits: Tensor?
        for _ in 0..<max(eotIterations, 1) {
            let leaf = x.detached()
            leaf.requiresGrad = true
            let output = try model(leaf)
            try output.backward(seed: loss.seed(output: output))
            guard let gradient = leaf.grad else {
                throw RobustnessError.incompatible("\(model.modelDescription.name): the output does not depend on the input (no input gradient)")
            }
            if let sum { PerturbationKernels.accumulate(gradient, into: sum) } else { sum = gradient }
            logits = output
        }
        let gradient = sum!, last = logits!
        if eotIterations > 1 { PerturbationKernels.scale(gradient, by: 1 / Float(eotIterations)) }
        return Evaluation(logits: last.detached(), values: loss.values(output: last), gradient: gradient)
    }
}

extension Tensor {
    /// The class at position `rank` when row `row`'s logits are sorted in decreasing order (0: the top class).
    func rankedClass(row: Int, rank: Int) -> Int {
        let k = shape[1], z = pointer + row * k
        return (0..<k).sorted { z[$0] > z[$1] || (z[$0] == z[$1] && $0 < $1) }[rank]
    }
}
