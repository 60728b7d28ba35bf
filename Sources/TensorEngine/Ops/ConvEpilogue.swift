/// What a convolution does to a tile of its output while the tile is still in cache: add the
/// bias, a residual (a ResNet block's shortcut) and apply ReLU. In evaluation ResNet's batch-norms
/// are folded into the convolutions, so its layers are conv + bias + ReLU and conv + bias +
/// shortcut + ReLU. Done here, no pass fills the output with the bias before the GEMM adds to
/// it, and no separate add and ReLU passes (with the activations they leave behind) follow.
struct ConvEpilogue {
    let bias: UnsafePointer<Float>?
    /// Of the output's shape (N, O, Ho, Wo).
    let residual: UnsafePointer<Float>?
    let relu: Bool

    /// Nothing to do: a plain convolution, or an input gradient computed as one.
    static let none = ConvEpilogue(bias: nil, residual: nil, relu: false)

    var isEmpty: Bool { bias == nil && residual == nil && !relu }

    /// y[c·ldc + j] = f(y[c·ldc + j] + bias[c] + residual[offset + c·ldc + j]) for c < `channels`,
    /// j < `columns`, where `offset` is where `y` starts in the output and f is ReLU or the identity.
    func apply(_ y: UnsafeMutablePointer<Float>, offset: Int, channels: Int, columns: Int, ldc: Int) {
        guard !isEmpty else { return }
        for c in 0..<channels {
            VectorKernels.addBiasResidualReLU(y + c * ldc, count: columns, bias: bias?[c] ?? 0,
                                              residual: residual.map { $0 + offset + c * ldc }, relu: relu)
        }
    }
}
