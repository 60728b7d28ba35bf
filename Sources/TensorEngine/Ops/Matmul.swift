/// Matrix product and the fully connected layer, through cblas_sgemm.
enum Matmul {
    // a (M, K) · b (K, N) -> (M, N)
    static func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try require(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0],
                    .shapeMismatch(op: "matmul", shapes: [a.shape, b.shape], reason: "needs (M, K) and (K, N)"))
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        let out = Storage(uninitializedCount: m * n)
        Gemm.parallelMultiply(m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: n, c: out.pointer, ldc: n)
        return Tensor.result(shape: [m, n], storage: out, op: .matmul(a, b), inputs: a, b)
    }

    // da = g · bᵀ, db = aᵀ · g
    static func matmulBackward(_ g: Tensor, _ a: Tensor, _ b: Tensor) -> [(Tensor, Tensor)] {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        var grads: [(Tensor, Tensor)] = []
        if a.requiresGrad {
            let da = Storage(uninitializedCount: m * k)
            Gemm.parallelMultiply(transposeB: true, m: m, n: k, k: n, a: g.pointer, lda: n, b: b.pointer, ldb: n,
                                  c: da.pointer, ldc: k)
            grads.append((a, Tensor(shape: a.shape, storage: da)))
        }
        if b.requiresGrad {
            let db = Storage(uninitializedCount: k * n)
            Gemm.parallelMultiply(transposeA: true, m: k, n: n, k: m, a: a.pointer, lda: k, b: g.pointer, ldb: n,
                                  c: db.pointer, ldc: n)
            grads.append((b, Tensor(shape: b.shape, storage: db)))
        }
        return grads
    }

    // x (N, in) · Wᵀ (in, out) + b -> (N, out); W is (out, in) as in PyTorch.
    static func linear(_ x: Tensor, _ w: Tensor, _ b: Tensor?) throws -> Tensor {
        try require(x.rank == 2 && w.rank == 2 && x.shape[1] == w.shape[1],
                    .shapeMismatch(op: "linear", shapes: [x.shape, w.shape],
                                   reason: "input (N, in) needs weight (out, in)"))
        let (batch, inFeatures, outFeatures) = (x.shape[0], x.shape[1], w.shape[0])
        if let b {
            try require(b.shape == [outFeatures], .shapeMismatch(op: "linear", shapes: [w.shape, b.shape],
                                                                 reason: "bias must be (out)"))
        }
        let out = Storage(uninitializedCount: batch * outFeatures)
        let y = out.pointer
        if let b {
            for r in 0..<batch { (y + r * outFeatures).update(from: b.pointer, count: outFeatures) }
        }
        Gemm.parallelMultiply(transposeB: true, m: batch, n: outFeatures, k: inFeatures,
                              a: x.pointer, lda: inFeatures, b: w.pointer, ldb: inFeatures,
                              beta: b == nil ? 0 : 1, c: y, ldc: outFeatures)
        return Tensor.result(shape: [batch, outFeatures], storage: out, op: .linear(input: x, weight: w, bias: b),
                             inputs: x, w, b)
    }

    // dx = g · W, dW = gᵀ · x, db = Σ_rows g
    static func linearBackward(_ g: Tensor, _ x: Tensor, _ w: Tensor, _ b: Tensor?) -> [(Tensor, Tensor)] {
        let (batch, inFeatures, outFeatures) = (x.shape[0], x.shape[1], w.shape[0])
        var grads: [(Tensor, Tensor)] = []
        if x.requiresGrad {
            let dx = Storage(uninitializedCount: batch * inFeatures)
            Gemm.parallelMultiply(m: batch, n: inFeatures, k: outFeatures, a: g.pointer, lda: outFeatures,
                                  b: w.pointer, ldb: inFeatures, c: dx.pointer, ldc: inFeatures)
            grads.append((x, Tensor(shape: x.shape, storage: dx)))
        }
        if w.requiresGrad {
            let dw = Storage(uninitializedCount: outFeatures * inFeatures)
            Gemm.parallelMultiply(transposeA: true, m: outFeatures, n: inFeatures, k: batch, a: g.pointer,
                                  lda: outFeatures, b: x.pointer, ldb: inFeatures, c: dw.pointer, ldc: inFeatures)
            grads.append((w, Tensor(shape: w.shape, storage: dw)))
        }
        if let b, b.requiresGrad {
            let db = Storage(count: outFeatures)
            let gp = g.pointer, d = db.pointer
            for r in 0..<batch { for j in 0..<outFeatures { d[j] += gp[r * outFeatures + j] } }
            grads.append((b, Tensor(shape: b.shape, storage: db)))
        }
        return grads
    }
}

extension Tensor {
    /// Matrix product of two rank-2 tensors.
    public func matmul(_ other: Tensor) throws -> Tensor { try Matmul.matmul(self, other) }
}

/// y = x Wᵀ + b, with PyTorch's (out, in) weight layout.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
    try Matmul.linear(x, weight, bias)
}
