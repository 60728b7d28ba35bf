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
/// Images are split across the engine's threads; within a thread the output columns are
/// walked in `ColumnTiles` (several small images side by side, or bands of a large one), so
/// each GEMM is wide enough for OpenBLAS and its unfolded operand stays in cache.
enum Conv2d {
    /// Chunks of the batch per thread: with 4, a thread the OS delays costs the step a quarter
    /// of its share, not all of it (utilization 1.75 → 1.80 cores on resnet20).
    static let piecesPerThread = 4
    /// relu(conv(x, w) + b + residual) with the bias, the residual and the ReLU each optional
    /// (`ConvEpilogue`).
    static func forward(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: Int, padding: Int,
                        residual: Tensor? = nil, relu: Bool = false) throws -> Tensor {
        let geo = try Conv2dGeometry(input: x.shape, weight: w.shape, stride: stride, padding: padding)
        if let b {
            try require(b.shape == [geo.outChannels], .shapeMismatch(op: "conv2d", shapes: [w.shape, b.shape], reason: "bias must be (O)"))
        }
        let outShape = [geo.batch, geo.outChannels, geo.outHeight, geo.outWidth]
        if let residual {
            try require(residual.shape == outShape, .shapeMismatch(op: "conv2d", shapes: [outShape, residual.shape],
                                                                   reason: "the residual must have the output's shape"))
        }
        let (k, p, o) = (geo.patchSize, geo.outPixels, geo.outChannels)
        let out = Storage(uninitializedCount: geo.batch * o * p)
        let xp = x.pointer, wp = w.pointer, yp = out.pointer
        let epilogue = ConvEpilogue(bias: b.map { UnsafePointer($0.pointer) }, residual: residual.map { UnsafePointer($0.pointer) }, relu: relu)
        let inStride = geo.inChannels * geo.height * geo.width
        // Rearranged weights only when some tile is a single image (the row-shifted path); on small
        // maps every tile holds several images and resnet18's layer4 would rearrange 9.4 MB for nothing.
        let weightRows = RowShiftedConv.applies(geo) && ColumnTiles.someTileIsOneImage(geo.batch, rows: geo.outHeight, width: geo.outWidth)
            ? RowShiftedConv.weightsByKernelRow(wp, geo) : nil
        Parallel.forEachChunk(geo.batch, piecesPerThread: Conv2d.piecesPerThread) { _, images in
            let tiles = ColumnTiles(images, rows: geo.outHeight, width: geo.outWidth)
            let blockSize = weightRows == nil ? 0 : RowShiftedConv.blockSize(geo, rows: tiles.bandRows)
            let col = Storage(uninitializedCount: max(k * tiles.maxColumns, blockSize))
            let product = tiles.maxImages > 1 ? Storage(uninitializedCount: o * tiles.maxColumns) : nil
            for tile in tiles {
                let columns = tile.columns
                if tile.count == 1, let weightRows {
                    // Y (O, band) = Σ_ki W_ki · block shifted by ki rows, straight into the image's plane.
                    let offset = tile.first * o * p + tile.pixelOffset
                    RowShiftedConv.convolve(xp + tile.first * inStride, geo, rows: tile.rows, weightRows: weightRows.pointer,
                                            block: col.pointer, into: yp + offset, ldc: p, accumulate: false)
                    epilogue.apply(yp + offset, offset: offset, channels: o, columns: columns, ldc: p)
                    continue
                }
                // col (K, columns): image i's patches in columns [i·P', (i+1)·P')
                let source: UnsafePointer<Float>, sourceStride: Int
                if geo.isPointwise && tile.count == 1 {
                    (source, sourceStride) = (UnsafePointer(xp + tile.first * inStride + tile.pixelOffset), p)
                } else {
                    for i in 0..<tile.count {
                        Im2col.unfold(xp + (tile.first + i) * inStride, geo, rows: tile.rows,
                                      into: col.pointer + i * tile.pixelsPerImage, rowStride: columns)
                    }
                    (source, sourceStride) = (UnsafePointer(col.pointer), columns)
                }
                if tile.count > 1, let product {
                    // Y (O, columns) = W (O, K) · col, then each image's block to NCHW and its epilogue.
                    Gemm.multiply(m: o, n: columns, k: k, a: wp, lda: k, b: source, ldb: sourceStride, c: product.pointer, ldc: columns)
                    Layout.scatter(product.pointer, rows: o, pixels: p, images: tile.count, into: yp + tile.first * o * p)
                    for i in tile.first..<(tile.first + tile.count) {
                        epilogue.apply(yp + i * o * p, offset: i * o * p, channels: o, columns: p, ldc: p)
                    }
                } else {
                    // One image (or a band of it): the GEMM writes straight into its NCHW plane.
                    let offset = tile.first * o * p + tile.pixelOffset
                    Gemm.multiply(m: o, n: columns, k: k, a: wp, lda: k, b: source, ldb: sourceStride, c: yp + offset, ldc: p)
                    epilogue.apply(yp + offset, offset: offset, channels: o, columns: columns, ldc: p)
                }
            }
        }
        return Tensor.result(shape: outShape, storage: out,
                             op: .conv2d(input: x, weight: w, bias: b, residual: residual, relu: relu, geo), inputs: x, w, b, residual)
    }

    static func backward(_ gradOutput: Tensor, _ x: Tensor, _ w: Tensor, _ b: Tensor?, residual: Tensor?, relu: Bool,
                         _ geo: Conv2dGeometry, output y: Tensor) -> [(Tensor, Tensor)] {
        // Behind a fused ReLU the gradient passes where the output is positive; the residual gets it as is.
        let g = relu ? Unary.reluBackward(gradOutput, y) : gradOutput
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
        let chunks = Parallel.chunkCount(geo.batch, piecesPerThread: Conv2d.piecesPerThread)
        // Large weights over small maps: one GEMM over the whole batch after the chunks (no partials).
        let batchWeight = needWeight && BatchWeightGradient.applies(geo, chunks: chunks)
        let chunkWeight = needWeight && !batchWeight
        // One weight-gradient accumulator per chunk, summed in a fixed order afterwards (deterministic).
        let dwPartials = chunkWeight ? (0..<chunks).map { _ in Storage(count: w.count) } : []
        // Bands of a row-shifted convolution accumulate their weight gradient by kernel row.
        let rowShifted = RowShiftedConv.applies(geo)
            && ColumnTiles.someTileIsOneImage(geo.batch, rows: geo.outHeight, width: geo.outWidth)
        let dwRowPartials = chunkWeight && rowShifted ? (0..<chunks).map { _ in Storage(count: w.count) } : []
        let transposedRows = transposed.flatMap { t in
            RowShiftedConv.applies(t.geometry)
                && ColumnTiles.someTileIsOneImage(geo.batch, rows: t.geometry.outHeight, width: t.geometry.outWidth)
                ? RowShiftedConv.weightsByKernelRow(t.flipped.pointer, t.geometry) : nil
        }

        Parallel.forEachChunk(geo.batch, piecesPerThread: Conv2d.piecesPerThread) { chunk, images in
            // The weight gradient and the pointwise/fold input gradients walk the output's columns;
            // the transposed input gradient walks the input's (its own output).
            let tiles = ColumnTiles(images, rows: geo.outHeight, width: geo.outWidth)
            let inputTiles = transposed.map { ColumnTiles(images, rows: $0.geometry.outHeight, width: $0.geometry.outWidth) }
            let walksOutput = chunkWeight || (needInput && transposed == nil)
            let gathered = walksOutput && tiles.maxImages > 1 ? Storage(uninitializedCount: o * tiles.maxColumns) : nil
            // col holds whichever unfolding a tile takes: im2col or a row-shifted block, of x or of g.
            var colSize = walksOutput ? max(k * tiles.maxColumns, rowShifted ? RowShiftedConv.blockSize(geo, rows: tiles.bandRows) : 0) : 0
            if let transposed, let inputTiles {
                let tg = transposed.geometry
                colSize = max(colSize, tg.patchSize * inputTiles.maxColumns,
                              transposedRows == nil ? 0 : RowShiftedConv.blockSize(tg, rows: inputTiles.bandRows))
            }
            let col = Storage(uninitializedCount: colSize)
            let productSize = max(geo.isPointwise && tiles.maxImages > 1 ? c * tiles.maxColumns : 0,
                                  inputTiles.map { $0.maxImages > 1 ? c * $0.maxColumns : 0 } ?? 0)
            let product = needInput && productSize > 0 ? Storage(uninitializedCount: productSize) : nil

            for tile in tiles where walksOutput {
                let columns = tile.columns
                // g (O, columns), `gStride` apart
                let gG: UnsafePointer<Float>, gStride: Int
                if tile.count > 1, let gathered {
                    Layout.gather(gp + tile.first * o * p, rows: o, pixels: p, images: tile.count, into: gathered.pointer)
                    (gG, gStride) = (UnsafePointer(gathered.pointer), columns)
                } else {
                    (gG, gStride) = (UnsafePointer(gp + tile.first * o * p + tile.pixelOffset), p)
                }
                if chunkWeight && rowShifted && tile.count == 1 {
                    RowShiftedConv.addWeightGradient(gG, gStride: gStride, xp + tile.first * inStride, geo, rows: tile.rows,
                                                     block: col.pointer, into: dwRowPartials[chunk].pointer)
                } else if chunkWeight {
                    let source: UnsafePointer<Float>, sourceStride: Int
                    if geo.isPointwise && tile.count == 1 {
                        (source, sourceStride) = (UnsafePointer(xp + tile.first * inStride + tile.pixelOffset), p)
                    } else {
                        for i in 0..<tile.count {
                            Im2col.unfold(xp + (tile.first + i) * inStride, geo, rows: tile.rows,
                                          into: col.pointer + i * tile.pixelsPerImage, rowStride: columns)
                        }
                        (source, sourceStride) = (UnsafePointer(col.pointer), columns)
                    }
                    // dW (O, K) += g (O, columns) · colᵀ (columns, K)
                    Gemm.multiply(transposeB: true, m: o, n: k, k: columns, a: gG, lda: gStride, b: source, ldb: sourceStride,
                                  beta: 1, c: dwPartials[chunk].pointer, ldc: k)
                }
                guard let dx, transposed == nil else { continue }
                let dxFirst = dx.pointer + tile.first * inStride
                if geo.isPointwise {
                    // dx (C, columns) = Wᵀ (C, O) · g (O, columns); pointwise, so output pixels are input pixels
                    if tile.count > 1, let product {
                        Gemm.multiply(transposeA: true, m: c, n: columns, k: o, a: wp, lda: c, b: gG, ldb: gStride,
                                      c: product.pointer, ldc: columns)
                        Layout.scatter(product.pointer, rows: c, pixels: p, images: tile.count, into: dxFirst)
                    } else {
                        Gemm.multiply(transposeA: true, m: c, n: columns, k: o, a: wp, lda: c, b: gG, ldb: gStride,
                                      c: dxFirst + tile.pixelOffset, ldc: hw)
                    }
                } else {
                    // dcol (K, columns) = Wᵀ (K, O) · g (O, columns), folded back onto each image
                    Gemm.multiply(transposeA: true, m: k, n: columns, k: o, a: wp, lda: k, b: gG, ldb: gStride,
                                  c: col.pointer, ldc: columns)
                    for i in 0..<tile.count {
                        Im2col.fold(col.pointer + i * tile.pixelsPerImage, geo, rows: tile.rows, rowStride: columns,
                                    into: dxFirst + i * inStride)
                    }
                }
            }

            guard let dx, let transposed, let inputTiles else { return }
            // dx (C, columns) = W' (C, O·kh·kw) · unfold(g) (O·kh·kw, columns)
            let tg = transposed.geometry
            for tile in inputTiles {
                let columns = tile.columns
                if tile.count == 1, let transposedRows {
                    // dx (C, band) = Σ_ki W'_ki (C, O·kw) · (block of g shifted by ki rows)
                    RowShiftedConv.convolve(gp + tile.first * o * p, tg, rows: tile.rows, weightRows: transposedRows.pointer,
                                            block: col.pointer, into: dx.pointer + tile.first * inStride + tile.pixelOffset, ldc: hw,
                                            accumulate: false)
                    continue
                }
                for i in 0..<tile.count {
                    Im2col.unfold(gp + (tile.first + i) * o * p, tg, rows: tile.rows,
                                  into: col.pointer + i * tile.pixelsPerImage, rowStride: columns)
                }
                let dxFirst = dx.pointer + tile.first * inStride
                if tile.count > 1, let product {
                    Gemm.multiply(m: c, n: columns, k: tg.patchSize, a: transposed.flipped.pointer, lda: tg.patchSize,
                                  b: col.pointer, ldb: columns, c: product.pointer, ldc: columns)
                    Layout.scatter(product.pointer, rows: c, pixels: hw, images: tile.count, into: dxFirst)
                } else {
                    Gemm.multiply(m: c, n: columns, k: tg.patchSize, a: transposed.flipped.pointer, lda: tg.patchSize,
                                  b: col.pointer, ldb: columns, c: dxFirst + tile.pixelOffset, ldc: hw)
                }
            }
        }

        var grads: [(Tensor, Tensor)] = []
        if let dx { grads.append((x, Tensor(shape: x.shape, storage: dx))) }
        if batchWeight {
            grads.append((w, Tensor(shape: w.shape, storage: BatchWeightGradient.compute(gp, xp, geo))))
        } else if needWeight {
            let dw = dwPartials[0]
            for partial in dwPartials.dropFirst() { Kernels.addInPlace(dw, partial) }
            for partial in dwRowPartials { RowShiftedConv.addKernelRows(partial.pointer, geo, into: dw.pointer) }
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
        if let residual, residual.requiresGrad { grads.append((residual, g)) }
        return grads
    }
}

extension Tensor {
    /// 2-D convolution: self (N, C, H, W), weight (O, C, kh, kw), bias (O) -> (N, O, Ho, Wo).
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) throws -> Tensor {
        try Conv2d.forward(self, weight, bias, stride: stride, padding: padding)
    }

    /// relu(conv2d(self) + residual) (residual optional) in one op: the bias, the residual and the
    /// ReLU are applied to each tile of the output while it is in cache (`ConvEpilogue`).
    public func conv2dReLU(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                           adding residual: Tensor? = nil) throws -> Tensor {
        try Conv2d.forward(self, weight, bias, stride: stride, padding: padding, residual: residual, relu: true)
    }
}
