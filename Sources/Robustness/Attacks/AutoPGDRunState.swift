import TensorEngine

/// The per-example state of one APGD run over the examples not yet misclassified. Rows leave as
/// soon as they are misclassified, so later iterations cost only what is left to attack; each
/// row's schedule depends on that row alone, so leaving changes nothing for the others.
final class AutoPGDRunState {
    private(set) var clean, adv, previous, gradient: Tensor
    /// The highest-loss point so far, its gradient and logits (a halving step goes back to it).
    private var best, bestGradient, bestLogits: Tensor
    private(set) var loss: AttackLoss
    private(set) var stepSizes: [Float]
    /// Row → index among the run's rows (where results are written).
    private var positions: [Int]
    private var bestLoss, bestLossAtLastCheckpoint: [Float]
    private var halvedAtLastCheckpoint: [Bool]
    /// Per row: the loss at the start, then after each iteration.
    private var history: [[Float]]

    var isEmpty: Bool { positions.isEmpty }

    init(clean: Tensor, start: Tensor, loss: AttackLoss, first: AutoPGD.Evaluation, initialStep: Float) {
        let m = clean.shape[0]
        (self.clean, adv, previous, gradient) = (clean, start, start.copy(), first.gradient)
        (best, bestGradient, bestLogits) = (start.copy(), first.gradient.copy(), first.logits.copy())
        self.loss = loss
        stepSizes = Array(repeating: initialStep, count: m)
        positions = Array(0..<m)
        (bestLoss, bestLossAtLastCheckpoint) = (first.values, first.values)
        // As in the paper, the first checkpoint can only halve for a loss that rose too rarely.
        halvedAtLastCheckpoint = Array(repeating: true, count: m)
        history = first.values.map { [$0] }
    }

    /// Takes in the evaluation at the new iterate: its gradient for the next step, and a new best where the loss rose.
    func record(_ evaluation: AutoPGD.Evaluation) {
        gradient = evaluation.gradient
        for r in positions.indices {
            let value = evaluation.values[r]
            history[r].append(value)
            if value > bestLoss[r] {
                bestLoss[r] = value
                PerturbationKernels.copyRow(r, from: adv, to: best)
                PerturbationKernels.copyRow(r, from: gradient, to: bestGradient)
                PerturbationKernels.copyRow(r, from: evaluation.logits, to: bestLogits)
            }
        }
    }

    /// Rows the current iterate misclassifies are done: their iterate and logits go to `found`, and they leave.
    func retireMisclassified(_ logits: Tensor, into found: inout AttackedRows) {
        let labels = loss.labels
        let misclassified = positions.indices.map { logits.predictedClass(row: $0) != labels[$0] }
        guard misclassified.contains(true) else { return }
        for r in positions.indices where misclassified[r] {
            found.fooled[positions[r]] = true
            PerturbationKernels.copyRow(r, into: positions[r], from: adv, to: found.images)
            PerturbationKernels.copyRow(r, into: positions[r], from: logits, to: found.logits)
        }
        keep(positions.indices.filter { !misclassified[$0] })
    }

    /// The step-size decision over the last `window` iterations, row by row.
    func checkpoint(window: Int) {
        for r in positions.indices {
            let h = history[r]
            let rises = (h.count - window..<h.count).filter { h[$0] > h[$0 - 1] }.count
            let rarelyRising = Float(rises) < AutoPGDSettings.risingShare * Float(window)
            let stuck = !halvedAtLastCheckpoint[r] && bestLossAtLastCheckpoint[r] >= bestLoss[r]
            let halve = rarelyRising || stuck
            halvedAtLastCheckpoint[r] = halve
            bestLossAtLastCheckpoint[r] = bestLoss[r]
            if halve {
                stepSizes[r] /= 2
                PerturbationKernels.copyRow(r, from: best, to: adv)
                PerturbationKernels.copyRow(r, from: bestGradient, to: gradient)
            }
        }
    }

    /// Rows never misclassified return their highest-loss point.
    func returnBestPoints(into found: inout AttackedRows) {
        for r in positions.indices {
            PerturbationKernels.copyRow(r, into: positions[r], from: best, to: found.images)
            PerturbationKernels.copyRow(r, into: positions[r], from: bestLogits, to: found.logits)
        }
    }

    private func keep(_ rows: [Int]) {
        clean = clean.selectingRows(rows); adv = adv.selectingRows(rows); previous = previous.selectingRows(rows)
        gradient = gradient.selectingRows(rows); best = best.selectingRows(rows)
        bestGradient = bestGradient.selectingRows(rows); bestLogits = bestLogits.selectingRows(rows)
        loss = loss.selectingRows(rows)
        stepSizes = rows.map { stepSizes[$0] }
        positions = rows.map { positions[$0] }
        bestLoss = rows.map { bestLoss[$0] }
        bestLossAtLastCheckpoint = rows.map { bestLossAtLastCheckpoint[$0] }
        halvedAtLastCheckpoint = rows.map { halvedAtLastCheckpoint[$0] }
        history = rows.map { history[$0] }
    }
}

extension AttackLoss {
    /// The true labels of a label loss (APGD's losses all have them).
    var labels: [Int] {
        switch self {
        case let .crossEntropy(labels), let .margin(labels), let .targetedDLR(labels, _), let .dlr(labels): return labels
        case .klFromClean, .featureDistance: return []
        }
    }

    /// The same loss for a subset of the batch's rows.
    func selectingRows(_ rows: [Int]) -> AttackLoss {
        switch self {
        case let .crossEntropy(labels): return .crossEntropy(labels: rows.map { labels[$0] })
        case let .margin(labels): return .margin(labels: rows.map { labels[$0] })
        case let .dlr(labels): return .dlr(labels: rows.map { labels[$0] })
        case let .targetedDLR(labels, targets): return .targetedDLR(labels: rows.map { labels[$0] }, targets: rows.map { targets[$0] })
        case let .klFromClean(p): return .klFromClean(probabilities: p.selectingRows(rows))
        case let .featureDistance(reference): return .featureDistance(reference: reference.selectingRows(rows))
        }
    }
}
