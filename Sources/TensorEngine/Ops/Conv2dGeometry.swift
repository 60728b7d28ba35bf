/// The sizes of one 2-D convolution, checked once so the kernels can trust them.
public struct Conv2dGeometry: Equatable, Sendable {
    public let batch, inChannels, height, width: Int
    public let outChannels, kernelHeight, kernelWidth: Int
    public let stride, padding: Int
    public let outHeight, outWidth: Int

    /// Rows of the unfolded input: C·kh·kw.
    var patchSize: Int { inChannels * kernelHeight * kernelWidth }
    /// Output pixels per image: Ho·Wo.
    var outPixels: Int { outHeight * outWidth }
    /// 1×1, stride 1, no padding: the input already is its own unfolded matrix.
    var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }

    /// Output columns `ow` whose input column `ow·stride − padding + kj` lies inside [0, width).
    @inline(__always)
    func validColumns(_ kj: Int) -> (Int, Int) {
        let firstInside = padding - kj  // ow·stride must reach at least this
        let lastInside = width - 1 + padding - kj  // and at most this
        guard lastInside >= 0 else { return (0, 0) }
        let lo = min(outWidth, firstInside <= 0 ? 0 : (firstInside + stride - 1) / stride)
        let hi = min(outWidth, lastInside / stride + 1)
        return (lo, max(lo, hi))
    }

    init(input: [Int], weight: [Int], stride: Int, padding: Int) throws {
        try require(input.count == 4 && weight.count == 4,
                    .shapeMismatch(op: "conv2d", shapes: [input, weight], reason: "needs input (N, C, H, W) and weight (O, C, kh, kw)"))
        try require(input[1] == weight[1],
                    .shapeMismatch(op: "conv2d", shapes: [input, weight], reason: "input has \(input[1]) channels, weight expects \(weight[1])"))
        try require(stride >= 1 && padding >= 0, .invalidArgument(op: "conv2d", reason: "stride \(stride) and padding \(padding) must be >= 1 and >= 0"))
        (batch, inChannels, height, width) = (input[0], input[1], input[2], input[3])
        (outChannels, kernelHeight, kernelWidth) = (weight[0], weight[2], weight[3])
        (self.stride, self.padding) = (stride, padding)
        outHeight = (height + 2 * padding - kernelHeight) / stride + 1
        outWidth = (width + 2 * padding - kernelWidth) / stride + 1
        try require(height + 2 * padding >= kernelHeight && width + 2 * padding >= kernelWidth,
                    .shapeMismatch(op: "conv2d", shapes: [input, weight], reason: "kernel is larger than the padded input"))
    }
}
