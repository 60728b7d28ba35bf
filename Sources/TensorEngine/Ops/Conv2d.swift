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

/// Convolution as im2col + GEMM (PyTorch's layout: input NCHW, weight OIHW, output NCHW).
///
/// Images are split across the engine's threads; within a thread, small feature maps are
/// unfolded side by side so that one GEMM covers several images (at least ~1024 columns),
/// which keeps OpenBLAS efficient on 16×16 and 8×8 maps and packs the weights once per group.
enum Conv2d {
    static func forward(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: Int, padding: Int) throws -> Tensor {
        let geo = try Conv2dGeometry(input: x.shape, weight: w.shape, stride: stride, padding: padding)
        if let b {
            try require(b.shape == [geo.outChannels], .shapeMismatch(op: "conv2d", shapes: [w.shape, b.shape], reason: "bias must be (O)"))
        }
        let (k, p, o) = (geo.patchSize, geo.outPixels, geo.outChannels)
        let out = Storage(uninitializedCount: geo.batch * o * p)
        let xp = x.pointer, wp = w.pointer, yp = out.pointer, bp = b?.pointer
        let inStride = geo.inChannels * geo.height * geo.width
        Parallel.forEachChunk(geo.batch) { _, images in
            let group = ImageGroups(images, pixels: p)
            let col = Storage(uninitializedCount: k * group.maxSize * p)
            let product = group.maxSize > 1 ? Storage(uninitializedCount: o * group.maxSize * p) : nil
            for (first, count) in group {
                let columns = count * p
                // col (K, g·P): image i's patches in columns [i·P, (i+1)·P)
                let source: UnsafePointer<Float>
                if geo.isPointwise && count == 1 {
                    source = UnsafePointer(xp + first * inStride)
                } else {
                    for i in 0..<count { Im2col.unfold(xp + (first + i) * inStride, geo, into: col.pointer + i * p, rowStride: columns) }
                    source = UnsafePointer(col.pointer)
                }
                if let product {
                    // Y (O, g·P) = W (O, K) · col, then each image's block to NCHW with the bias.
                    Gemm.multiply(m: o, n: columns, k: k, a: wp, lda: k, b: source, ldb: columns, c: product.pointer, ldc: columns)
                    Layout.scatter(product.pointer, rows: o, pixels: p, images: count, into: yp + first * o * p, bias: bp)
                } else {
                    let y = yp + first * o * p
                    if let bp { for c in 0..<o { (y + c * p).initialize(repeating: bp[c], count: p) } }
                    Gemm.multiply(m: o, n: p, k: k, a: wp, lda: k, b: source, ldb: p, beta: bp == nil ? 0 : 1, c: y, ldc: p)
                }
            }
        }
        return Tensor.result(shape: [geo.batch, o, geo.outHeight, geo.outWidth], storage: out,
                             op: .conv2d(input: x, weight: w, bias: b, geo), inputs: x, w, b)
    }

    static func backward(_ g: Tensor, _ x: Tensor, _ w: Tensor, _ b: Tensor?, _ geo: Conv2dGeometry) -> [(Tensor, Tensor)] {
        let (k, p, o, c) = (geo.patchSize, geo.outPixels, geo.outChannels, geo.inChannels)
        let hw = geo.height * geo.width
        let inStride = c * hw
        let xp = x.pointer, wp = w.pointer, gp = g.pointer
        let needInput = x.requiresGrad, needWeight = w.requiresGrad
        // With stride 1 the input gradient is itself a convolution: of g, padded by k−1−p, with the
        // flipped, channel-swapped kernel. Unfolding g and one GEMM with inner size O·kh·kw beats
        // a GEMM with inner size O followed by an adding fold.
        // It unfolds g (O·kh·kw rows) where folding writes C·kh·kw rows: worth it unless O > C
        // (a stem like 3 → 16 channels folds).
        let transposes = geo.stride == 1 && !geo.isPointwise && geo.kernelHeight == geo.kernelWidth
            && geo.padding < geo.kernelHeight && geo.outChannels <= geo.inChannels
        let transposed = needInput && transposes ? TransposedConv(geo, w) : nil
        // Only the fold path adds into dx; the GEMM paths overwrite it.
        let folds = needInput && transposed == nil && !geo.isPointwise
        let dx = needInput ? (folds ? Storage(count: x.count) : Storage(uninitializedCount: x.count)) : nil
        let chunks = Parallel.chunkCount(geo.batch)
        // One weight-gradient accumulator per thread, summed in a fixed order afterwards (deterministic).
        let dwPartials = needWeight ? (0..<chunks).map { _ in Storage(count: w.count) } : []

        Parallel.forEachChunk(geo.batch) { chunk, images in
            let group = ImageGroups(images, pixels: p)
            let maxImages = group.maxSize
            let gathered = maxImages > 1 ? Storage(uninitializedCount: o * maxImages * p) : nil
            let col = Storage(uninitializedCount: max(k * maxImages * p, transposed.map { $0.geometry.patchSize * maxImages * hw } ?? 0))
            let product = maxImages > 1 && needInput ? Storage(uninitializedCount: max(c * maxImages * hw, k * maxImages * p)) : nil
            for (first, count) in group {
                let columns = count * p
                // g (O, g·P)
                let gG: UnsafePointer<Float>
                if let gathered {
                    Layout.gather(gp + first * o * p, rows: o, pixels: p, images: count, into: gathered.pointer)
                    gG = UnsafePointer(gathered.pointer)
                } else {
                    gG = UnsafePointer(gp + first * o * p)
                }
                if needWeight {
                    let source: UnsafePointer<Float>
                    if geo.isPointwise && count == 1 {
                        source = UnsafePointer(xp + first * inStride)
                    } else {
                        for i in 0..<count { Im2col.unfold(xp + (first + i) * inStride, geo, into: col.pointer + i * p, rowStride: columns) }
                        source = UnsafePointer(col.pointer)
                    }
                    // dW (O, K) += g (O, g·P) · colᵀ (g·P, K)
                    Gemm.multiply(transposeB: true, m: o, n: k, k: columns, a: gG, lda: columns, b: source, ldb: columns,
                                  beta: 1, c: dwPartials[chunk].pointer, ldc: k)
                }
                guard let dx else { continue }
                let dxFirst = dx.pointer + first * inStride
                if let transposed {
                    // dx (C, g·HW) = W' (C, O·kh·kw) · unfold(g) (O·kh·kw, g·HW)
                    let tg = transposed.geometry, wide = count * hw
                    for i in 0..<count { Im2col.unfold(gp + (first + i) * o * p, tg, into: col.pointer + i * hw, rowStride: wide) }
                    let target = product?.pointer ?? dxFirst
                    Gemm.multiply(m: c, n: wide, k: tg.patchSize, a: transposed.flipped.pointer, lda: tg.patchSize,
                                  b: col.pointer, ldb: wide, c: target, ldc: wide)
                    if product != nil { Layout.scatter(target, rows: c, pixels: hw, images: count, into: dxFirst, bias: nil) }
                } else if geo.isPointwise {
                    // dx (C, g·P) = Wᵀ (C, O) · g (O, g·P)
                    let target = product?.pointer ?? dxFirst
                    Gemm.multiply(transposeA: true, m: c, n: columns, k: o, a: wp, lda: c, b: gG, ldb: columns, c: target, ldc: columns)
                    if product != nil { Layout.scatter(target, rows: c, pixels: p, images: count, into: dxFirst, bias: nil) }
                } else {
                    // dcol (K, g·P) = Wᵀ (K, O) · g (O, g·P), folded back onto each image
                    Gemm.multiply(transposeA: true, m: k, n: columns, k: o, a: wp, lda: k, b: gG, ldb: columns, c: col.pointer, ldc: columns)
                    for i in 0..<count { Im2col.fold(col.pointer + i * p, geo, rowStride: columns, into: dxFirst + i * inStride) }
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
                for ch in 0..<o {
                    let row = gp + (n * o + ch) * p
                    var s: Float = 0
                    for i in 0..<p { s += row[i] }
                    db.pointer[ch] += s
                }
            }
            grads.append((b, Tensor(shape: b.shape, storage: db)))
        }
        return grads
    }
}

/// Consecutive runs of a thread's images that share one GEMM: as many as give ~1024 columns.
struct ImageGroups: Sequence {
    let images: Range<Int>
    let maxSize: Int
    init(_ images: Range<Int>, pixels: Int) {
        self.images = images
        maxSize = Swift.max(1, Swift.min(images.count, (1024 + pixels - 1) / Swift.max(pixels, 1)))
    }

    func makeIterator() -> AnyIterator<(first: Int, count: Int)> {
        var next = images.lowerBound
        return AnyIterator {
            guard next < images.upperBound else { return nil }
            let count = Swift.min(maxSize, images.upperBound - next)
            defer { next += count }
            return (next, count)
        }
    }
}

/// Moving between image-major NCHW blocks and one (rows, images·pixels) matrix.
enum Layout {
    // (images, rows, pixels) -> (rows, images·pixels)
    static func gather(_ src: UnsafePointer<Float>, rows: Int, pixels: Int, images: Int, into dst: UnsafeMutablePointer<Float>) {
        let width = images * pixels
        for i in 0..<images {
            for r in 0..<rows { (dst + r * width + i * pixels).update(from: src + (i * rows + r) * pixels, count: pixels) }
        }
    }

    // (rows, images·pixels) -> (images, rows, pixels), adding a per-row bias when given
    static func scatter(_ src: UnsafePointer<Float>, rows: Int, pixels: Int, images: Int,
                        into dst: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?) {
        let width = images * pixels
        for i in 0..<images {
            for r in 0..<rows {
                let from = src + r * width + i * pixels, to = dst + (i * rows + r) * pixels
                if let bias {
                    let v = bias[r]
                    for j in 0..<pixels { to[j] = from[j] + v }
                } else {
                    to.update(from: from, count: pixels)
                }
            }
        }
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
    }
}

/// Unfolding an image into patch columns and folding columns back (the adjoint, which adds).
enum Im2col {
    // image (C, H, W) -> col (C·kh·kw, Ho·Wo, rows rowStride apart), zeros where the patch reaches into the padding
    static func unfold(_ image: UnsafePointer<Float>, _ g: Conv2dGeometry, into col: UnsafeMutablePointer<Float>, rowStride: Int) {
        if g.stride == 1 && g.outWidth == g.width {
            unfoldSameWidth(image, g, into: col, rowStride: rowStride)
            return
        }
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
                            for ow in 0..<wo { dst[ow] = 0 }
                            continue
                        }
                        let src = plane + ih * w
                        for ow in 0..<owLo { dst[ow] = 0 }
                        for ow in owLo..<owHi { dst[ow] = src[ow * s - pad + kj] }
                        for ow in owHi..<wo { dst[ow] = 0 }
                    }
                    row += rowStride
                }
            }
        }
    }

    // Stride 1 with Wo = W (3×3 with padding 1, the common case): each row of col is the whole
    // plane shifted by (ki − pad, kj − pad), so it is one block copy plus zeroed borders.
    private static func unfoldSameWidth(_ image: UnsafePointer<Float>, _ g: Conv2dGeometry, into col: UnsafeMutablePointer<Float>, rowStride: Int) {
        let (h, w, ho, pad) = (g.height, g.width, g.outHeight, g.padding)
        let planeSize = h * w, rowSize = ho * w
        var row = col
        for c in 0..<g.inChannels {
            let plane = image + c * planeSize
            for ki in 0..<g.kernelHeight {
                let dy = ki - pad
                let ohLo = max(0, -dy), ohHi = max(ohLo, min(ho, h - dy))
                for kj in 0..<g.kernelWidth {
                    let dx = kj - pad
                    // Rows whose input row is inside the image: one contiguous copy, clipped to the plane.
                    let first = ohLo * w, last = ohHi * w
                    let srcFirst = max(first + dy * w + dx, 0), srcLast = min(last + dy * w + dx, planeSize)
                    for i in 0..<first { row[i] = 0 }
                    if srcLast > srcFirst {
                        let dstFirst = srcFirst - dy * w - dx
                        let dst = row + dstFirst, src = plane + srcFirst
                        for i in 0..<(srcLast - srcFirst) { dst[i] = src[i] }
                        for i in first..<dstFirst { row[i] = 0 }
                        for i in (dstFirst + srcLast - srcFirst)..<last { row[i] = 0 }
                    }
                    for i in last..<rowSize { row[i] = 0 }
                    // Columns whose input column falls outside [0, w) picked up a neighbour row's value.
                    // Usually one column each side: a single store, not a memset call per row.
                    if dx != 0 {
                        let (lo, hi) = g.validColumns(kj)
                        for oh in ohLo..<ohHi {
                            let r = row + oh * w
                            if lo == 1 { r[0] = 0 } else { for ow in 0..<lo { r[ow] = 0 } }
                            if hi == w - 1 { r[hi] = 0 } else { for ow in hi..<w { r[ow] = 0 } }
                        }
                    }
                    row += rowStride
                }
            }
        }
    }

    // col (C·kh·kw, Ho·Wo, rows rowStride apart) -> image (C, H, W), adding overlapping patches; image must start zeroed
    static func fold(_ col: UnsafePointer<Float>, _ g: Conv2dGeometry, rowStride: Int, into image: UnsafeMutablePointer<Float>) {
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
                    row += rowStride
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
