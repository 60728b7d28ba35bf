import NeuralNetworks
import TensorEngine

/// What a parameter-free attack (APGD, Square) found for the batch rows it attacked, in that order.
///
/// These attacks work on a subset of the batch: only the examples the model still gets right are
/// worth queries, and AutoAttack hands each attack only what the ones before it did not break.
/// Randomness is drawn per example from the example's row in the whole batch, so an example is
/// attacked the same way whichever subset it is in.
struct AttackedRows {
    /// (m, C, H, W): the misclassified point for fooled rows, otherwise the attack's best one.
    var images: Tensor
    /// (m, K): the model's logits on `images` (the attack already had them: no further forward).
    var logits: Tensor
    var fooled: [Bool]
    /// Rows whose input gradient at the attack's first evaluation was exactly zero.
    var zeroGradients: Int

    /// Checks the input, puts the model in attack mode and runs `attack` on the rows it classifies
    /// correctly on clean inputs (`cleanLogits`, computed when nil). Returns the whole batch:
    /// misclassified rows keep their clean image and logits, as they need no attack.
    static func attackingCorrectRows(_ model: ImageClassifier, images: Tensor, labels: [Int], cleanLogits: Tensor?, needsGradients: Bool,
                                     _ attack: (_ rows: [Int], _ cleanLogits: Tensor) throws -> AttackedRows) throws -> AdversarialBatch {
        if needsGradients && !Tape.isRecording {
            throw RobustnessError.invalidSetting(name: "attack", reason: "needs input gradients; it was called inside withoutGradients { }")
        }
        try ProjectedGradientAttack.validate(.margin(labels: labels), images: images, classes: model.modelDescription.numClasses)
        return try AttackScope.run(model) {
            let clean = try cleanLogits ?? withoutGradients { try model(images) }
            guard clean.shape == [labels.count, model.modelDescription.numClasses] else {
                throw RobustnessError.incompatible("clean logits \(clean.shape) for \(labels.count) labels and \(model.modelDescription.numClasses) classes")
            }
            let rows = labels.indices.filter { clean.predictedClass(row: $0) == labels[$0] }
            let adversarial = images.copy(), output = clean.copy()
            var zeroGradients = 0
            if !rows.isEmpty {
                let found = try attack(rows, clean.selectingRows(rows))
                adversarial.replaceRows(rows, with: found.images)
                output.replaceRows(rows, with: found.logits)
                zeroGradients = found.zeroGradients
            }
            return AdversarialBatch(images: adversarial, output: output, scores: AttackLoss.margin(labels: labels).scores(output: output),
                                    zeroGradientExamples: zeroGradients)
        }
    }

    /// `rounds` runs (restarts, target classes, AutoAttack's components), each on the rows no run
    /// before it misclassified. `run(round, open)` attacks the batch rows `open` and returns their
    /// outcome in that order. A row keeps its first misclassified point, else the one with the
    /// lowest margin z_y − max_{j≠y} z_j over all rounds; the zero-gradient count is the first round's.
    static func bestOverRounds(_ rounds: Int, images: Tensor, labels: [Int], rows: [Int], cleanLogits: Tensor,
                               _ run: (_ round: Int, _ open: [Int]) throws -> AttackedRows) throws -> AttackedRows {
        var found = AttackedRows(images: images.selectingRows(rows), logits: cleanLogits.copy(),
                                 fooled: Array(repeating: false, count: rows.count), zeroGradients: 0)
        var margins = [Float](repeating: .infinity, count: rows.count)
        for round in 0..<rounds {
            let open = found.fooled.indices.filter { !found.fooled[$0] }
            if open.isEmpty { break }
            let result = try run(round, open.map { rows[$0] })
            if round == 0 { found.zeroGradients = result.zeroGradients }
            let resultMargins = AttackLoss.margin(labels: open.map { labels[rows[$0]] }).scores(output: result.logits)
            for (j, i) in open.enumerated() where result.fooled[j] || resultMargins[j] < margins[i] {
                found.fooled[i] = result.fooled[j]
                margins[i] = resultMargins[j]
                PerturbationKernels.copyRow(j, into: i, from: result.images, to: found.images)
                PerturbationKernels.copyRow(j, into: i, from: result.logits, to: found.logits)
            }
        }
        return found
    }
}

extension Tensor {
    /// The rows (first-axis slices) at `indices`, copied into a new tensor.
    func selectingRows(_ indices: [Int]) -> Tensor {
        let d = count / max(shape[0], 1)
        let selected = Tensor(zeros: [indices.count] + shape.dropFirst())
        for (to, from) in indices.enumerated() {
            (selected.pointer + to * d).update(from: pointer + from * d, count: d)
        }
        return selected
    }

    /// Overwrites rows `indices` with the rows of `source`, in order.
    func replaceRows(_ indices: [Int], with source: Tensor) {
        let d = count / max(shape[0], 1)
        for (from, to) in indices.enumerated() {
            (pointer + to * d).update(from: source.pointer + from * d, count: d)
        }
    }

    /// The class with the largest logit in `row` (the first on ties, as `RobustnessEvaluator.judge`).
    func predictedClass(row: Int) -> Int {
        let k = shape[1], z = pointer + row * k
        var best = 0
        for j in 1..<k where z[j] > z[best] { best = j }
        return best
    }
}
