/// What batch-norm's backward needs besides its input: the mean and 1/sqrt(var + eps) used per
/// channel. The normalized input x̂ is recomputed from them rather than kept, which saves one
/// activation-sized buffer per batch-norm layer for the whole backward pass.
final class BatchNormSaved: @unchecked Sendable {
    let mean: [Float]
    let inverseStd: [Float]
    let training: Bool
    /// The output is relu(bn(x) + residual): backward masks the gradient by output > 0.
    let fusedReLU: Bool
    init(mean: [Float], inverseStd: [Float], training: Bool, fusedReLU: Bool) {
        (self.mean, self.inverseStd, self.training, self.fusedReLU) = (mean, inverseStd, training, fusedReLU)
    }
}

/// Batch normalization over (N, C, ...) with PyTorch semantics: training normalizes with the
/// batch's biased variance and moves the running statistics by `momentum` (the running
/// variance takes the unbiased estimate); evaluation normalizes with the running statistics.
///
/// Optionally fused with what follows it in a ResNet, y = relu(bn(x) [+ residual]): one pass
/// writes y instead of three (normalize, add, ReLU) writing two intermediate activations that
/// the tape would keep alive until backward (bn(x) and the sum, each an activation-sized buffer
/// per layer). Backward masks the gradient by y > 0 inside its own passes.
enum BatchNorm {
    static func forward(_ x: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor,
                        training: Bool, momentum: Float, epsilon: Float,
                        residual: Tensor? = nil, relu: Bool = false) throws -> Tensor {
        try require(x.rank >= 2, .shapeMismatch(op: "batchNorm", shapes: [x.shape], reason: "needs (N, C, ...)"))
        if let residual {
            try require(residual.shape == x.shape, .shapeMismatch(op: "batchNorm", shapes: [x.shape, residual.shape],
                                                                  reason: "the residual must have the input's shape"))
            try require(relu, .invalidArgument(op: "batchNorm", reason: "a residual is only fused together with the ReLU"))
        }
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
        var means = [Float](repeating: 0, count: channels)
        var inverseStds = [Float](repeating: 0, count: channels)
        let xp = x.pointer, yp = out.pointer, rp = residual?.pointer
        let gamma = weight.pointer, beta = bias.pointer, rm = runningMean.pointer, rv = runningVar.pointer
        means.withUnsafeMutableBufferPointer { meanBuffer in
        inverseStds.withUnsafeMutableBufferPointer { invBuffer in
            let meanp = meanBuffer.baseAddress!, invp = invBuffer.baseAddress!
            Parallel.forEachChunk(channels) { _, range in
                for c in range {
                    var mean: Float, variance: Float
                    if training {
                        // Shifted sums, one pass, without the cancellation of E[x²] − E[x]² in Float
                        // (8 Float lanes per block of a row, blocks added in Double.)
                        let shiftValue = xp[c * spatial], shift = Double(shiftValue)
                        var s = 0.0, ss = 0.0
                        for n in 0..<batch {
                            let (rowSum, rowSquares) = VectorKernels.shiftedSums(xp + (n * channels + c) * spatial,
                                                                                 count: spatial, shift: shiftValue)
                            s += rowSum
                            ss += rowSquares
                        }
                        let mu = s / Double(m)
                        let centered = max(ss - s * mu, 0)
                        mean = Float(shift + mu)
                        variance = Float(centered / Double(m))
                        rm[c] = (1 - momentum) * rm[c] + momentum * mean
                        rv[c] = (1 - momentum) * rv[c] + momentum * Float(centered / Double(m - 1))
                    } else {
                        mean = rm[c]
                        variance = rv[c]
                    }
                    let invStd = 1 / (variance + epsilon).squareRoot()
                    meanp[c] = mean
                    invp[c] = invStd
                    // y = x·a + b with a = γ·invStd, b = β − mean·a (then + residual, ReLU)
                    let a = gamma[c] * invStd, b = beta[c] - mean * a
                    for n in 0..<batch {
                        let offset = (n * channels + c) * spatial
                        let src = xp + offset, dst = yp + offset
                        if let rp {
                            VectorKernels.affineAddReLU(dst, src, rp + offset, a, b, count: spatial)
                        } else if relu {
                            VectorKernels.affineReLU(dst, src, a, b, count: spatial)
                        } else {
                            for i in 0..<spatial { dst[i] = src[i] * a + b }
                        }
                    }
                }
            }
        }
        }
        let saved = BatchNormSaved(mean: means, inverseStd: inverseStds, training: training, fusedReLU: relu)
        return Tensor.result(shape: x.shape, storage: out, op: .batchNorm(input: x, weight: weight, bias: bias, residual: residual, saved),
                             inputs: x, weight, bias, residual)
    }

    // With the fused ReLU, g is first masked: g·[y > 0] (the residual's gradient, too).
    // Training: dx = γ·invStd/M · (M·g − Σg − x̂·Σ(g·x̂)).  Evaluation: dx = γ·invStd·g.
    // dγ = Σ g·x̂, dβ = Σ g (sums over N and the spatial positions).
    static func backward(_ gradOutput: Tensor, _ x: Tensor, _ weight: Tensor, _ bias: Tensor, residual: Tensor?,
                         _ saved: BatchNormSaved, output y: Tensor) -> [(Tensor, Tensor)] {
        // The residual needs the masked gradient itself, so it is written out once and used
        // unmasked below; without one, the mask is applied where g is read (no extra pass).
        var g = gradOutput
        if saved.fusedReLU, residual != nil { g = Unary.reluBackward(gradOutput, y) }
        let mask: UnsafePointer<Float>? = saved.fusedReLU && residual == nil ? UnsafePointer(y.pointer) : nil
        let (batch, channels) = (x.shape[0], x.shape[1])
        let spatial = x.shape.dropFirst(2).reduce(1, *)
        let m = Float(batch * spatial)
        let dx = x.requiresGrad ? Storage(uninitializedCount: x.count) : nil
        // In evaluation with frozen γ, β (attacks) only dx = γ·invStd·g is needed: no reductions.
        let needSums = saved.training || weight.requiresGrad || bias.requiresGrad
        let dgamma = Storage(count: channels), dbeta = Storage(count: channels)
        let gp = g.pointer, xp = x.pointer, gamma = weight.pointer
        let dgp = dgamma.pointer, dbp = dbeta.pointer
        saved.mean.withUnsafeBufferPointer { meanBuffer in
        saved.inverseStd.withUnsafeBufferPointer { inv in
            Parallel.forEachChunk(channels) { _, range in
                for c in range {
                    let mean = meanBuffer[c], invStd = inv[c]
                    var sumG: Float = 0, sumGX: Float = 0
                    if needSums {
                        var totalG = 0.0, totalGX = 0.0
                        for n in 0..<batch {
                            let offset = (n * channels + c) * spatial
                            let (rowG, rowGX) = mask.map {
                                VectorKernels.maskedGradientSums(gp + offset, xp + offset, $0 + offset, count: spatial, mean: mean)
                            } ?? VectorKernels.gradientSums(gp + offset, xp + offset, count: spatial, mean: mean)
                            totalG += rowG
                            totalGX += rowGX
                        }
                        sumG = Float(totalG)
                        sumGX = Float(totalGX) * invStd  // Σ g·x̂
                    }
                    dgp[c] = sumGX
                    dbp[c] = sumG
                    guard let dx else { continue }
                    let k = gamma[c] * invStd
                    let dxp = dx.pointer
                    let meanG = sumG / m, meanGX = sumGX / m
                    for n in 0..<batch {
                        let offset = (n * channels + c) * spatial
                        let gr = gp + offset, xr = xp + offset, dr = dxp + offset
                        if let mask {
                            VectorKernels.maskedNormalizationGradient(dr, gr, xr, mask + offset, count: spatial, scale: k,
                                                                      meanG: saved.training ? meanG : 0, mean: mean,
                                                                      slope: saved.training ? invStd * meanGX : 0)
                        } else if saved.training {
                            for i in 0..<spatial { dr[i] = k * (gr[i] - meanG - (xr[i] - mean) * invStd * meanGX) }
                        } else {
                            for i in 0..<spatial { dr[i] = k * gr[i] }
                        }
                    }
                }
            }
        }
        }
        var grads: [(Tensor, Tensor)] = []
        if let dx { grads.append((x, Tensor(shape: x.shape, storage: dx))) }
        if weight.requiresGrad { grads.append((weight, Tensor(shape: weight.shape, storage: dgamma))) }
        if bias.requiresGrad { grads.append((bias, Tensor(shape: bias.shape, storage: dbeta))) }
        if let residual, residual.requiresGrad { grads.append((residual, g)) }
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

    /// relu(batchNorm(self) + residual) (residual optional) in one op: the same values and
    /// gradients as the three ops, without their intermediate activations.
    public func batchNormReLU(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor,
                              training: Bool, momentum: Float = 0.1, epsilon: Float = 1e-5,
                              adding residual: Tensor? = nil) throws -> Tensor {
        try BatchNorm.forward(self, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                              training: training, momentum: momentum, epsilon: epsilon, residual: residual, relu: true)
    }
}
