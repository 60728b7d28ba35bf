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
        let out = Storage(uninitializedCount: outShape.reduce(1, *))
        let epilogue = ConvEpilogue(bias: b.map { UnsafePointer($0.pointer) }, residual: residual.map { UnsafePointer($0.pointer) }, relu: relu)
        let plan = Conv2dPlan(geo, weight: w.pointer, parts: .output)
        let xp = UnsafePointer(x.pointer), yp = out.pointer
        Parallel.forEachChunk(geo.batch, piecesPerThread: Conv2d.piecesPerThread) { _, images in
            plan.output!.run(images, xp, into: yp, epilogue: epilogue)
        }
        return Tensor.result(shape: outShape, storage: out,
                             op: .conv2d(input: x, weight: w, bias: b, residual: residual, relu: relu, geo), inputs: x, w, b, residual)
    }

    static func backward(_ gradOutput: Tensor, _ x: Tensor, _ w: Tensor, _ b: Tensor?, residual: Tensor?, relu: Bool,
                         _ geo: Conv2dGeometry, output y: Tensor) -> [(Tensor, Tensor)] {
        // Behind a fused ReLU the gradient passes where the output is positive; the residual gets it as is.
        let g = relu ? Unary.reluBackward(gradOutput, y) : gradOutput
        let parts: Conv2dPlan.Parts = [x.requiresGrad ? .inputGradient : [], w.requiresGrad ? .weightGradient : []]
        let plan = Conv2dPlan(geo, weight: w.pointer, parts: parts)
        let dx = plan.inputGradient.map { $0.startsFromZero ? Storage(count: x.count) : Storage(uninitializedCount: x.count) }
        let xp = UnsafePointer(x.pointer), gp = UnsafePointer(g.pointer)
        Parallel.forEachChunk(geo.batch, piecesPerThread: Conv2d.piecesPerThread) { chunk, images in
            if plan.walksOutputTiles { walkOutputTiles(plan, chunk: chunk, images, gp, xp, dx: dx?.pointer) }
            if case .transposed(let transposed) = plan.inputGradient, let dx { transposed.run(images, gradient: gp, into: dx.pointer) }
        }

        var grads: [(Tensor, Tensor)] = []
        if let dx { grads.append((x, Tensor(shape: x.shape, storage: dx))) }
        if let weightGradient = plan.weightGradient {
            grads.append((w, Tensor(shape: w.shape, storage: weightGradient.finish(gradient: gp, xp))))
        }
        if let b, b.requiresGrad { grads.append((b, Tensor(shape: b.shape, storage: biasGradient(gp, geo)))) }
        if let residual, residual.requiresGrad { grads.append((residual, g)) }
        return grads
    }

    /// The weight gradient and an input gradient that walk the output (fold, pointwise) share each
    /// tile's output gradient, gathered once when the tile holds several images.
    private static func walkOutputTiles(_ plan: Conv2dPlan, chunk: Int, _ images: Range<Int>, _ gp: UnsafePointer<Float>,
                                        _ xp: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?) {
        let geo = plan.geometry
        let (o, p) = (geo.outChannels, geo.outPixels)
        let tiles = ColumnTiles(images, rows: geo.outHeight, width: geo.outWidth)
        let inputScratch = plan.inputGradient?.scratch(tiles) ?? (col: 0, product: 0)
        let col = Storage(uninitializedCount: max(plan.weightGradient?.scratch(tiles) ?? 0, inputScratch.col))
        let product = inputScratch.product > 0 ? Storage(uninitializedCount: inputScratch.product) : nil
        let gathered = tiles.maxImages > 1 ? Storage(uninitializedCount: o * tiles.maxColumns) : nil
        for tile in tiles {
            // g (O, columns), `gStride` apart
            let gTile: UnsafePointer<Float>, gStride: Int
            if tile.count > 1, let gathered {
                Layout.gather(gp + tile.first * o * p, rows: o, pixels: p, images: tile.count, into: gathered.pointer)
                (gTile, gStride) = (UnsafePointer(gathered.pointer), tile.columns)
            } else {
                (gTile, gStride) = (gp + tile.first * o * p + tile.pixelOffset, p)
            }
            plan.weightGradient?.add(tile, chunk: chunk, gradient: gTile, gStride: gStride, xp, col: col.pointer)
            if let dx { plan.inputGradient?.add(tile, gradient: gTile, gStride: gStride, into: dx, col: col.pointer, product: product?.pointer) }
        }
    }

    /// db[o] = Σ over images and pixels of g[n, o].
    private static func biasGradient(_ gp: UnsafePointer<Float>, _ geo: Conv2dGeometry) -> Storage {
        let (o, p) = (geo.outChannels, geo.outPixels)
        let db = Storage(count: o)
        for n in 0..<geo.batch {
            for ch in 0..<o {
                let row = gp + (n * o + ch) * p
                var s: Float = 0
                for i in 0..<p { s += row[i] }
                db.pointer[ch] += s
            }
        }
        return db
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
