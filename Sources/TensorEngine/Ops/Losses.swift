import Foundation

/// Losses with fused, numerically stable forward and backward.
enum Losses {
    // mean_i [ logsumexp(x_i) − x_i[y_i] ]; the softmax probabilities are kept for the backward.
    static func crossEntropy(_ logits: Tensor, _ labels: [Int]) throws -> Tensor {
        try require(logits.rank == 2 && logits.shape[0] == labels.count,
                    .shapeMismatch(op: "crossEntropy", shapes: [logits.shape, [labels.count]], reason: "needs logits (N, K) and N labels"))
        let (n, k) = (logits.shape[0], logits.shape[1])
        try require(n > 0, .invalidArgument(op: "crossEntropy", reason: "empty batch"))
        if let bad = labels.first(where: { $0 < 0 || $0 >= k }) {
            throw TensorError.invalidArgument(op: "crossEntropy", reason: "label \(bad) outside 0..<\(k)")
        }
        let probabilities = Storage(uninitializedCount: logits.count)
        var total = 0.0
        for r in 0..<n {
            let row = probabilities.pointer + r * k
            Softmax.logSoftmaxRow(logits.pointer + r * k, row, k)
            total -= Double(row[labels[r]])
            for j in 0..<k { row[j] = Foundation.exp(row[j]) }
        }
        let out = Storage(uninitializedCount: 1)
        out.pointer[0] = Float(total / Double(n))
        let labels32 = labels.map(Int32.init)
        return Tensor.result(shape: [], storage: out,
                             op: .crossEntropy(logits: logits, labels: labels32, probabilities: probabilities), inputs: logits)
    }

    // dlogits = g · (softmax − onehot(y)) / N
    static func crossEntropyBackward(_ g: Tensor, _ logits: Tensor, _ labels: [Int32], _ p: Storage) -> Tensor {
        let (n, k) = (logits.shape[0], logits.shape[1])
        let scale = g.pointer[0] / Float(n)
        let dx = Storage(uninitializedCount: logits.count)
        for r in 0..<n {
            for j in 0..<k { dx.pointer[r * k + j] = p.pointer[r * k + j] * scale }
            dx.pointer[r * k + Int(labels[r])] -= scale
        }
        return Tensor(shape: logits.shape, storage: dx)
    }

    // Σ p · (log p − logq), with 0 · log 0 = 0 (PyTorch's kl_div(logq, p, reduction="sum")).
    static func klDivergence(logInput: Tensor, target: Tensor) throws -> Tensor {
        try require(logInput.shape == target.shape,
                    .shapeMismatch(op: "klDivergence", shapes: [logInput.shape, target.shape], reason: "input and target must match"))
        var total = 0.0
        let q = logInput.pointer, p = target.pointer
        for i in 0..<target.count where p[i] > 0 { total += Double(p[i] * (Foundation.log(p[i]) - q[i])) }
        let out = Storage(uninitializedCount: 1)
        out.pointer[0] = Float(total)
        return Tensor.result(shape: [], storage: out, op: .klDivergence(logInput: logInput, target: target), inputs: logInput, target)
    }

    // d/dlogq = −p,  d/dp = log p + 1 − logq  (0 where p = 0)
    static func klDivergenceBackward(_ g: Tensor, _ logq: Tensor, _ p: Tensor) -> [(Tensor, Tensor)] {
        let scale = g.pointer[0]
        var grads: [(Tensor, Tensor)] = []
        if logq.requiresGrad {
            grads.append((logq, Tensor(shape: p.shape, storage: Unary.map(p) { -$0 * scale })))
        }
        if p.requiresGrad {
            grads.append((p, Unary.zip(p, logq) { $0 > 0 ? (Foundation.log($0) + 1 - $1) * scale : 0 }))
        }
        return grads
    }
}


extension Tensor {
    /// Softmax cross-entropy of logits (N, K) against integer labels, averaged over the batch.
    public func crossEntropy(labels: [Int]) throws -> Tensor { try Losses.crossEntropy(self, labels) }
}

/// How a loss reduces over elements.
public enum LossReduction: Sendable { case mean, sum }

/// Squared error between `a` and `b`, averaged (PyTorch's default) or summed.
public func meanSquaredError(_ a: Tensor, _ b: Tensor, reduction: LossReduction = .mean) throws -> Tensor {
    try require(a.shape == b.shape, .shapeMismatch(op: "meanSquaredError", shapes: [a.shape, b.shape], reason: "inputs must match"))
    let squared = try (a - b).pow(2)
    return reduction == .mean ? squared.mean() : squared.sum()
}

/// KL(target ‖ exp(logInput)) summed over all elements (PyTorch's kl_div with reduction="sum").
public func klDivergence(logInput: Tensor, target: Tensor) throws -> Tensor {
    try Losses.klDivergence(logInput: logInput, target: target)
}
