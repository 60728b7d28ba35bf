/// How a convolution's weight gradient is computed; `Conv2dPlan` picks one per geometry.
enum ConvWeightGradient {
    /// One zeroed dW per chunk of the batch, each tile adding g · colᵀ, summed in chunk order.
    case chunkPartials(ChunkPartialsWeightGradient)
    /// As `chunkPartials`, but a single image's band adds by kernel row on a row-shifted block.
    case rowShifted(RowShiftedWeightGradient)
    /// Large weights over small maps: one GEMM over the whole batch after the chunks (`BatchWeightGradient`).
    case batchWide(Conv2dGeometry)

    /// Whether it reads the output gradient tile by tile inside the chunks.
    var walksOutputTiles: Bool {
        if case .batchWide = self { return false }
        return true
    }

    /// Floats of `col` scratch per chunk for output tiles like `tiles`.
    func scratch(_ tiles: ColumnTiles) -> Int {
        switch self {
        case .chunkPartials(let p): return p.scratch(tiles)
        case .rowShifted(let r): return max(r.partials.scratch(tiles), RowShiftedConv.blockSize(r.partials.geometry, rows: tiles.bandRows))
        case .batchWide: return 0
        }
    }

    /// Adds a tile's share: `gradient` (O, columns; `gStride` apart) against its images of `x`.
    func add(_ tile: ColumnTile, chunk: Int, gradient: UnsafePointer<Float>, gStride: Int, _ x: UnsafePointer<Float>,
             col: UnsafeMutablePointer<Float>) {
        switch self {
        case .chunkPartials(let p): p.add(tile, chunk: chunk, gradient: gradient, gStride: gStride, x, col: col)
        case .rowShifted(let r): r.add(tile, chunk: chunk, gradient: gradient, gStride: gStride, x, col: col)
        case .batchWide: return
        }
    }

    /// dW (O, C, kh, kw) once every chunk is done.
    func finish(gradient g: UnsafePointer<Float>, _ x: UnsafePointer<Float>) -> Storage {
        switch self {
        case .chunkPartials(let p): return p.sum()
        case .rowShifted(let r): return r.sum()
        case .batchWide(let geo): return BatchWeightGradient.compute(g, x, geo)
        }
    }
}

/// dW (O, K) += g (O, columns) · colᵀ (columns, K) into the chunk's own partial; the partials are
/// summed in a fixed order afterwards, so the result does not depend on timing.
struct ChunkPartialsWeightGradient {
    let geometry: Conv2dGeometry
    let partials: [Storage]

    init(_ geo: Conv2dGeometry, chunks: Int) {
        geometry = geo
        let count = geo.outChannels * geo.patchSize
        partials = (0..<chunks).map { _ in Storage(count: count) }
    }

    func scratch(_ tiles: ColumnTiles) -> Int { geometry.isPointwise && tiles.maxImages == 1 ? 0 : geometry.patchSize * tiles.maxColumns }

    func add(_ tile: ColumnTile, chunk: Int, gradient: UnsafePointer<Float>, gStride: Int, _ x: UnsafePointer<Float>,
             col: UnsafeMutablePointer<Float>) {
        let k = geometry.patchSize
        let source: UnsafePointer<Float>, sourceStride: Int
        if geometry.isPointwise && tile.count == 1 {
            let inStride = geometry.inChannels * geometry.height * geometry.width
            (source, sourceStride) = (x + tile.first * inStride + tile.pixelOffset, geometry.outPixels)
        } else {
            Im2col.unfold(tile, of: x, geometry, into: col)
            (source, sourceStride) = (UnsafePointer(col), tile.columns)
        }
        Gemm.multiply(transposeB: true, m: geometry.outChannels, n: k, k: tile.columns, a: gradient, lda: gStride,
                      b: source, ldb: sourceStride, beta: 1, c: partials[chunk].pointer, ldc: k)
    }

    func sum() -> Storage {
        let dw = partials[0]
        for partial in partials.dropFirst() { Kernels.addInPlace(dw, partial) }
        return dw
    }
}

/// Bands of a row-shifted convolution (`RowShiftedConv`) accumulate dW_ki (O, C·kw) per kernel row
/// in a second set of partials; tiles of several images take the im2col partials.
struct RowShiftedWeightGradient {
    let partials: ChunkPartialsWeightGradient
    /// Per chunk, kh matrices (O, C·kw) laid out as `RowShiftedConv.weightsByKernelRow`.
    let rowPartials: [Storage]

    init(_ geo: Conv2dGeometry, chunks: Int) {
        partials = ChunkPartialsWeightGradient(geo, chunks: chunks)
        let count = geo.outChannels * geo.patchSize
        rowPartials = (0..<chunks).map { _ in Storage(count: count) }
    }

    func add(_ tile: ColumnTile, chunk: Int, gradient: UnsafePointer<Float>, gStride: Int, _ x: UnsafePointer<Float>,
             col: UnsafeMutablePointer<Float>) {
        guard tile.count == 1 else {
            partials.add(tile, chunk: chunk, gradient: gradient, gStride: gStride, x, col: col)
            return
        }
        let g = partials.geometry
        RowShiftedConv.addWeightGradient(gradient, gStride: gStride, x + tile.first * g.inChannels * g.height * g.width, g,
                                         rows: tile.rows, block: col, into: rowPartials[chunk].pointer)
    }

    func sum() -> Storage {
        let dw = partials.sum()
        for partial in rowPartials { RowShiftedConv.addKernelRows(partial.pointer, partials.geometry, into: dw.pointer) }
        return dw
    }
}
