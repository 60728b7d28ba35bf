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

/// Convolution as im2col + one GEMM per image, images split across the engine's threads
/// (PyTorch's layout: input NCHW, weight OIHW, output NCHW).
enum Conv2d {
    static func forward(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: Int, padding: Int) throws -> Tensor {
        let geo = try Conv2dGeometry(input: x.shape, weight: w.shape, stride: stride, padding: padding)
        if let b {
            try require(b.shape == [geo.outChannels], .shapeMismatch(op: "conv2d", shapes: [w.shape, b.shape], reason: "bias must be (O)"))
        }
        let (k, p, o) = (geo.patchSize, geo.outPixels, geo.outChannels)
        let out = Storage(uninitializedCount: geo.batch * o * p)
        let xp = x.pointer, wp = w.pointer, yp = out.pointer
        let inStride = geo.inChannels * geo.height * geo.width
        Parallel.forEachChunk(geo.batch) { _, images in
            let scratch = geo.isPointwise ? nil : Storage(uninitializedCount: k * p)
            let col = scratch?.pointer
            for n in images {
                let y = yp + n * o * p
                let source: UnsafePointer<Float>
                if let col {
                    Im2col.unfold(xp + n * inStride, geo, into: col)
                    source = UnsafePointer(col)
                } else {
                    source = UnsafePointer(xp + n * inStride)
                }
                if let b {
                    for c in 0..<o { (y + c * p).initialize(repeating: b.pointer[c], count: p) }
                }
                // y (O, P) = W (O, K) · col (K, P)
                Gemm.multiply(m: o, n: p, k: k, a: wp, lda: k, b: source, ldb: p, beta: b == nil ? 0 : 1, c: y, ldc: p)
            }
        }
        return Tensor.result(shape: [geo.batch, o, geo.outHeight, geo.outWidth], storage: out,
                             op: .conv2d(input: x, weight: w, bias: b, geo), inputs: x, w, b)
    }

    static func backward(_ g: Tensor, _ x: Tensor, _ w: Tensor, _ b: Tensor?, _ geo: Conv2dGeometry) -> [(Tensor, Tensor)] {
        let (k, p, o) = (geo.patchSize, geo.outPixels, geo.outChannels)
        let inStride = geo.inChannels * geo.height * geo.width
        let xp = x.pointer, wp = w.pointer, gp = g.pointer
        let needInput = x.requiresGrad, needWeight = w.requiresGrad
        let dx = needInput ? Storage(count: x.count) : nil
        // With stride 1 the input gradient is itself a convolution: of g, padded by k−1−p, with the
        // flipped, channel-swapped kernel. Unfolding g and one GEMM with inner size O·kh·kw beats
        // a GEMM with inner size O followed by an adding fold.
        let transposed = needInput && geo.stride == 1 && !geo.isPointwise ? TransposedConv(geo, w) : nil
        let chunks = Parallel.chunkCount(geo.batch)
        // One weight-gradient accumulator per thread, summed in a fixed order afterwards (deterministic).
        let dwPartials = needWeight ? (0..<chunks).map { _ in Storage(count: w.count) } : []

        Parallel.forEachChunk(geo.batch) { chunk, images in
            let scratchCount = max(k * p, transposed.map { $0.geometry.patchSize * $0.geometry.outPixels } ?? 0)
            let scratch = geo.isPointwise ? nil : Storage(uninitializedCount: scratchCount)
            let col = scratch?.pointer
            for n in images {
                let gn = gp + n * o * p
                if needWeight {
                    let source: UnsafePointer<Float>
                    if let col {
                        Im2col.unfold(xp + n * inStride, geo, into: col)
                        source = UnsafePointer(col)
                    } else {
                        source = UnsafePointer(xp + n * inStride)
                    }
                    // dW (O, K) += g_n (O, P) · col_nᵀ (P, K)
                    Gemm.multiply(transposeB: true, m: o, n: k, k: p, a: gn, lda: p, b: source, ldb: p,
                                  beta: 1, c: dwPartials[chunk].pointer, ldc: k)
                }
                guard let dx else { continue }
                let dxn = dx.pointer + n * inStride
                if let transposed, let col {
                    transposed.inputGradient(gn, into: dxn, scratch: col)
                } else if let col {
                    // dcol (K, P) = Wᵀ (K, O) · g_n (O, P), folded back onto the image
                    Gemm.multiply(transposeA: true, m: k, n: p, k: o, a: wp, lda: k, b: gn, ldb: p, c: col, ldc: p)
                    Im2col.fold(col, geo, into: dxn)
                } else {
                    Gemm.multiply(transposeA: true, m: k, n: p, k: o, a: wp, lda: k, b: gn, ldb: p, c: dxn, ldc: p)
                }
            }
        }

        var grads: [(Tensor, Tensor)] = []
        if let dx { grads.append((x, Tensor(shape: x.shape, storage: dx))) }
        if needWeight {
            let dw = dwPartials[0]
            for partial in dwPartials.dropFirst() { Kernels.addInPlace(dw, partial) }
            grads.append((w, Tensor(shape: w.shape, storage: dw)))
        }
        if let b, b.requiresGrad {
            let db = Storage(count: o)
            for n in 0..<geo.batch {
                for c in 0..<o {
                    let row = gp + (n * o + c) * p
                    var s: Float = 0
                    for i in 0..<p { s += row[i] }
                    db.pointer[c] += s
                }
            }
            grads.append((b, Tensor(shape: b.shape, storage: db)))
        }
        return grads
    }
}

/// The input gradient of a stride-1 convolution as a forward convolution of the output gradient:
/// dx[c, i, j] = Σ_{o,a,b} g[o, i − (kh−1−p) + a, j − (kw−1−p) + b] · W[o, c, kh−1−a, kw−1−b].
struct TransposedConv {
    let geometry: Conv2dGeometry
    /// W flipped in space with in/out channels swapped: (C, O, kh, kw).
    let flipped: Storage

    init(_ geo: Conv2dGeometry, _ w: Tensor) {
        let (o, c, kh, kw) = (geo.outChannels, geo.inChannels, geo.kernelHeight, geo.kernelWidth)
        flipped = Storage(uninitializedCount: w.count)
        let src = w.pointer, dst = flipped.pointer
        for oc in 0..<o { for ic in 0..<c { for a in 0..<kh { for b in 0..<kw {
            dst[((ic * o + oc) * kh + a) * kw + b] = src[((oc * c + ic) * kh + (kh - 1 - a)) * kw + (kw - 1 - b)]
        } } } }
        // Valid by construction: the forward geometry was checked, and stride 1 maps Ho×Wo back to H×W.
        geometry = try! Conv2dGeometry(input: [1, o, geo.outHeight, geo.outWidth], weight: [c, o, kh, kw],
                                       stride: 1, padding: kh - 1 - geo.padding)
        precondition(geometry.outHeight == geo.height && geometry.outWidth == geo.width && kh == kw)
    }

    // dx_n (C, H·W) = W' (C, O·kh·kw) · unfold(g_n) (O·kh·kw, H·W)
    func inputGradient(_ g: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        Im2col.unfold(g, geometry, into: scratch)
        Gemm.multiply(m: geometry.outChannels, n: geometry.outPixels, k: geometry.patchSize,
                      a: flipped.pointer, lda: geometry.patchSize, b: scratch, ldb: geometry.outPixels,
                      c: dx, ldc: geometry.outPixels)
    }
}

/// Unfolding an image into patch columns and folding columns back (the adjoint, which adds).
enum Im2col {
    // image (C, H, W) -> col (C·kh·kw, Ho·Wo), zeros where the patch reaches into the padding
    static func unfold(_ image: UnsafePointer<Float>, _ g: Conv2dGeometry, into col: UnsafeMutablePointer<Float>) {
        let (h, w, ho, wo, s, pad) = (g.height, g.width, g.outHeight, g.outWidth, g.stride, g.padding)
        var row = col
        for c in 0..<g.inChannels {
            let plane = image + c * h * w
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let (owLo, owHi) = g.validColumns(kj)
                    for oh in 0..<ho {
                        let ih = oh * s - pad + ki
                        let dst = row + oh * wo
                        if ih < 0 || ih >= h {
                            dst.initialize(repeating: 0, count: wo)
                            continue
                        }
                        let src = plane + ih * w
                        for ow in 0..<owLo { dst[ow] = 0 }
                        if s == 1 {
                            (dst + owLo).initialize(from: src + (owLo - pad + kj), count: owHi - owLo)
                        } else {
                            for ow in owLo..<owHi { dst[ow] = src[ow * s - pad + kj] }
                        }
                        for ow in owHi..<wo { dst[ow] = 0 }
                    }
                    row += ho * wo
                }
            }
        }
    }

    // col (C·kh·kw, Ho·Wo) -> image (C, H, W), adding overlapping patches; image must start zeroed
    static func fold(_ col: UnsafePointer<Float>, _ g: Conv2dGeometry, into image: UnsafeMutablePointer<Float>) {
        let (h, w, ho, wo, s, pad) = (g.height, g.width, g.outHeight, g.outWidth, g.stride, g.padding)
        var row = col
        for c in 0..<g.inChannels {
            let plane = image + c * h * w
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let (owLo, owHi) = g.validColumns(kj)
                    for oh in 0..<ho {
                        let ih = oh * s - pad + ki
                        if ih < 0 || ih >= h { continue }
                        let src = row + oh * wo
                        let dst = plane + ih * w
                        if s == 1 {
                            let base = dst + (-pad + kj)
                            for ow in owLo..<owHi { base[ow] += src[ow] }
                        } else {
                            for ow in owLo..<owHi { dst[ow * s - pad + kj] += src[ow] }
                        }
                    }
                    row += ho * wo
                }
            }
        }
    }
}

extension Tensor {
    /// 2-D convolution: self (N, C, H, W), weight (O, C, kh, kw), bias (O) -> (N, O, Ho, Wo).
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) throws -> Tensor {
        try Conv2d.forward(self, weight, bias, stride: stride, padding: padding)
    }
}
