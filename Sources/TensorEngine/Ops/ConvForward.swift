/// One way to compute a convolution's output for a chunk of the batch; `Conv2dPlan` picks one
/// per geometry. The input gradient of a stride-1 convolution runs one too (`TransposedConv`).
protocol ConvForward {
    /// y (images, O, Ho, Wo) of the whole batch's `y`, from `x` (N, C, H, W), each tile finished by
    /// `epilogue` while it is in cache.
    func run(_ images: Range<Int>, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, epilogue: ConvEpilogue)
}

/// Unfold every image of a tile (im2col), then one GEMM: Y (O, columns) = W (O, C·kh·kw) · col.
struct Im2colForward: ConvForward {
    let geometry: Conv2dGeometry
    /// (O, C·kh·kw)
    let weight: UnsafePointer<Float>

    func run(_ images: Range<Int>, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, epilogue: ConvEpilogue) {
        let tiles = ColumnTiles(images, rows: geometry.outHeight, width: geometry.outWidth)
        let col = Storage(uninitializedCount: geometry.patchSize * tiles.maxColumns)
        let product = TileProduct.buffer(rows: geometry.outChannels, tiles)
        for tile in tiles { run(tile, x, into: y, col: col.pointer, product: product?.pointer, epilogue: epilogue) }
    }

    /// One tile, with `col` holding at least C·kh·kw × tile.columns floats.
    func run(_ tile: ColumnTile, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
             col: UnsafeMutablePointer<Float>, product: UnsafeMutablePointer<Float>?, epilogue: ConvEpilogue) {
        Im2col.unfold(tile, of: x, geometry, into: col)
        TileProduct.write(tile, m: geometry.outChannels, k: geometry.patchSize, a: weight, lda: geometry.patchSize,
                          b: col, ldb: tile.columns, product: product, into: y, planeSize: geometry.outPixels, epilogue: epilogue)
    }
}

/// 1×1, stride 1, no padding: the input is its own unfolded matrix, so a single image's band is
/// multiplied in place and only a tile of several images is gathered side by side first.
struct PointwiseForward: ConvForward {
    let geometry: Conv2dGeometry
    /// (O, C)
    let weight: UnsafePointer<Float>

    func run(_ images: Range<Int>, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, epilogue: ConvEpilogue) {
        let tiles = ColumnTiles(images, rows: geometry.outHeight, width: geometry.outWidth)
        let (c, p) = (geometry.inChannels, geometry.outPixels)
        let col = tiles.maxImages > 1 ? Storage(uninitializedCount: c * tiles.maxColumns) : nil
        let product = TileProduct.buffer(rows: geometry.outChannels, tiles)
        for tile in tiles {
            let (source, stride) = PointwiseForward.source(tile, x, geometry, gathered: col?.pointer)
            TileProduct.write(tile, m: geometry.outChannels, k: c, a: weight, lda: c, b: source, ldb: stride,
                              product: product?.pointer, into: y, planeSize: p, epilogue: epilogue)
        }
    }

    /// x of a tile as a (C, columns) matrix and its row stride: in place for one image, else
    /// the images gathered side by side into `gathered`.
    static func source(_ tile: ColumnTile, _ x: UnsafePointer<Float>, _ g: Conv2dGeometry,
                       gathered: UnsafeMutablePointer<Float>?) -> (UnsafePointer<Float>, Int) {
        let inStride = g.inChannels * g.height * g.width
        guard tile.count > 1, let gathered else { return (x + tile.first * inStride + tile.pixelOffset, g.outPixels) }
        Layout.gather(x + tile.first * inStride, rows: g.inChannels, pixels: g.outPixels, images: tile.count, into: gathered)
        return (UnsafePointer(gathered), tile.columns)
    }
}

/// Stride 1 keeping the size (3×3 with padding 1): a single image's band takes `RowShiftedConv`
/// (a third of im2col's writes); a tile of several small images takes im2col.
struct RowShiftedForward: ConvForward {
    let im2col: Im2colForward
    /// The weights as kh matrices (O, C·kw) (`RowShiftedConv.weightsByKernelRow`).
    let weightRows: Storage

    init(_ g: Conv2dGeometry, weight: UnsafePointer<Float>) {
        im2col = Im2colForward(geometry: g, weight: weight)
        weightRows = RowShiftedConv.weightsByKernelRow(weight, g)
    }

    func run(_ images: Range<Int>, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, epilogue: ConvEpilogue) {
        let g = im2col.geometry
        let tiles = ColumnTiles(images, rows: g.outHeight, width: g.outWidth)
        let col = Storage(uninitializedCount: max(g.patchSize * tiles.maxColumns, RowShiftedConv.blockSize(g, rows: tiles.bandRows)))
        let product = TileProduct.buffer(rows: g.outChannels, tiles)
        let (o, p) = (g.outChannels, g.outPixels)
        for tile in tiles {
            guard tile.count == 1 else {
                im2col.run(tile, x, into: y, col: col.pointer, product: product?.pointer, epilogue: epilogue)
                continue
            }
            // Y (O, band) = Σ_ki W_ki · block shifted by ki rows, straight into the image's plane.
            let offset = tile.first * o * p + tile.pixelOffset
            RowShiftedConv.convolve(x + tile.first * g.inChannels * g.height * g.width, g, rows: tile.rows,
                                    weightRows: weightRows.pointer, block: col.pointer, into: y + offset, ldc: p, accumulate: false)
            epilogue.apply(y + offset, offset: offset, channels: o, columns: tile.columns, ldc: p)
        }
    }
}

/// The GEMM of one tile written into NCHW planes: Y (M, columns) = op(A) (M, K) · B (K, columns).
/// A single image's band goes straight into its plane; several images go through `product` and
/// are scattered to their planes. Each image's block then gets the epilogue.
enum TileProduct {
    /// The scratch `write` needs for tiles of several images: M × their widest columns.
    static func buffer(rows m: Int, _ tiles: ColumnTiles) -> Storage? {
        tiles.maxImages > 1 ? Storage(uninitializedCount: m * tiles.maxColumns) : nil
    }

    static func write(_ tile: ColumnTile, transposeA: Bool = false, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int, product: UnsafeMutablePointer<Float>?,
                      into y: UnsafeMutablePointer<Float>, planeSize p: Int, epilogue: ConvEpilogue) {
        let columns = tile.columns
        if tile.count > 1, let product {
            Gemm.multiply(transposeA: transposeA, m: m, n: columns, k: k, a: a, lda: lda, b: b, ldb: ldb, c: product, ldc: columns)
            Layout.scatter(product, rows: m, pixels: p, images: tile.count, into: y + tile.first * m * p)
            for i in tile.first..<(tile.first + tile.count) {
                epilogue.apply(y + i * m * p, offset: i * m * p, channels: m, columns: p, ldc: p)
            }
        } else {
            let offset = tile.first * m * p + tile.pixelOffset
            Gemm.multiply(transposeA: transposeA, m: m, n: columns, k: k, a: a, lda: lda, b: b, ldb: ldb, c: y + offset, ldc: p)
            epilogue.apply(y + offset, offset: offset, channels: m, columns: columns, ldc: p)
        }
    }
}
