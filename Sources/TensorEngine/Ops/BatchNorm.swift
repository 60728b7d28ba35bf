/// What batch-norm's backward needs: the normalized input and 1/sqrt(var + eps) per channel.
final class BatchNormSaved: @unchecked Sendable {
    let normalized: Storage
    let inverseStd: [Float]
    let training: Bool
    init(normalized: Storage, inverseStd: [Float], training: Bool) {
        (self.normalized, self.inverseStd, self.training) = (normalized, inverseStd, training)
    }
}

/// Batch normalization over (N, C, ...) with PyTorch semantics: training normalizes with the
/// batch's biased variance and moves the running statistics by `momentum` (the running
/// variance takes the unbiased estimate); evaluation normalizes with the running statistics.
enum BatchNorm {
    static func forward(_ x: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor,
                        training: Bool, momentum: Float, epsilon: Float) throws -> Tensor {
        try require(x.rank >= 2, .shapeMismatch(op: "batchNorm", shapes: [x.shape], reason: "needs (N, C, ...)"))
        let (batch, channels) = (x.shape[0], x.shape[1])
        let spatial = x.shape.dropFirst(2).reduce(1, *)
        for t in [weight, bias, runningMean, runningVar] {
            try require(t.shape == [channels], .shapeMismatch(op: "batchNorm", shapes: [x.shape, t.shape],
                                                              reason: "per-channel tensors must be (\(channels))"))
        }
        let m = batch * spatial
        if training {
            try require(m > 1, .invalidArgument(op: "batchNorm", reason: "training needs more than one value per channel, input is \(x.shape)"))
        }
        let out = Storage(uninitializedCount: x.count)
        let normalized = Storage(uninitializedCount: x.count)
        var inverseStd = [Float](repeating: 0, count: channels)
        let xp = x.pointer, yp = out.pointer, np = normalized.pointer
        let gamma = weight.pointer, beta = bias.pointer, rm = runningMean.pointer, rv = runningVar.pointer
        inverseStd.withUnsafeMutableBufferPointer { inv in
            let invp = inv.baseAddress!
            Parallel.forEachChunk(channels) { _, range in
                for c in range {
                    var mean: Float, variance: Float
                    if training {
                        // Two passes in Double: the batch variance of large planes loses digits in Float.
                        var s = 0.0
                        for n in 0..<batch { let p = xp + (n * channels + c) * spatial; for i in 0..<spatial { s += Double(p[i]) } }
                        let mu = s / Double(m)
                        var ss = 0.0
                        for n in 0..<batch { let p = xp + (n * channels + c) * spatial; for i in 0..<spatial { let d = Double(p[i]) - mu; ss += d * d } }
                        mean = Float(mu)
                        variance = Float(ss / Double(m))
                        rm[c] = (1 - momentum) * rm[c] + momentum * mean
                        rv[c] = (1 - momentum) * rv[c] + momentum * Float(ss / Double(m - 1))
                    } else {
                        mean = rm[c]
                        variance = rv[c]
                    }
                    let invStd = 1 / (variance + epsilon).squareRoot()
                    invp[c] = invStd
                    let (scale, shift) = (gamma[c], beta[c])
                    for n in 0..<batch {
                        let offset = (n * channels + c) * spatial
                        let src = xp + offset, nrm = np + offset, dst = yp + offset
                        for i in 0..<spatial {
                            let v = (src[i] - mean) * invStd
                            nrm[i] = v
                            dst[i] = v * scale + shift
                        }
                    }
                }
            }
        }
        let saved = BatchNormSaved(normalized: normalized, inverseStd: inverseStd, training: training)
        return Tensor.result(shape: x.shape, storage: out, op: .batchNorm(input: x, weight: weight, bias: bias, saved),
                             inputs: x, weight, bias)
    }

    // Training: dx = γ·invStd/M · (M·g − Σg − x̂·Σ(g·x̂)).  Evaluation: dx = γ·invStd·g.
    // dγ = Σ g·x̂, dβ = Σ g (sums over N and the spatial positions).
    static func backward(_ g: Tensor, _ x: Tensor, _ weight: Tensor, _ bias: Tensor, _ saved: BatchNormSaved) -> [(Tensor, Tensor)] {
        let (batch, channels) = (x.shape[0], x.shape[1])
        let spatial = x.shape.dropFirst(2).reduce(1, *)
        let m = Float(batch * spatial)
        let dx = x.requiresGrad ? Storage(uninitializedCount: x.count) : nil
        let dgamma = Storage(count: channels), dbeta = Storage(count: channels)
        let gp = g.pointer, np = saved.normalized.pointer, gamma = weight.pointer
        let dgp = dgamma.pointer, dbp = dbeta.pointer
        saved.inverseStd.withUnsafeBufferPointer { inv in
            Parallel.forEachChunk(channels) { _, range in
                for c in range {
                    var sumG: Float = 0, sumGX: Float = 0
                    for n in 0..<batch {
                        let offset = (n * channels + c) * spatial
                        let gr = gp + offset, nr = np + offset
                        for i in 0..<spatial { sumG += gr[i]; sumGX += gr[i] * nr[i] }
                    }
                    dgp[c] = sumGX
                    dbp[c] = sumG
                    guard let dx else { continue }
                    let k = gamma[c] * inv[c]
                    let dxp = dx.pointer
                    for n in 0..<batch {
                        let offset = (n * channels + c) * spatial
                        let gr = gp + offset, nr = np + offset, dr = dxp + offset
                        if saved.training {
                            let meanG = sumG / m, meanGX = sumGX / m
                            for i in 0..<spatial { dr[i] = k * (gr[i] - meanG - nr[i] * meanGX) }
                        } else {
                            for i in 0..<spatial { dr[i] = k * gr[i] }
                        }
                    }
                }
            }
        }
        var grads: [(Tensor, Tensor)] = []
        if let dx { grads.append((x, Tensor(shape: x.shape, storage: dx))) }
        if weight.requiresGrad { grads.append((weight, Tensor(shape: weight.shape, storage: dgamma))) }
        if bias.requiresGrad { grads.append((bias, Tensor(shape: bias.shape, storage: dbeta))) }
        return grads
    }
}

extension Tensor {
    /// Batch normalization (see `BatchNorm`); updates `runningMean`/`runningVar` in place when training.
    public func batchNorm(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor,
                          training: Bool, momentum: Float = 0.1, epsilon: Float = 1e-5) throws -> Tensor {
        try BatchNorm.forward(self, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                              training: training, momentum: momentum, epsilon: epsilon)
    }
}
