/// How a convolution's input gradient is computed; `Conv2dPlan` picks one per geometry.
enum ConvInputGradient {
    /// Stride 1: a forward convolution of the output gradient, walking the input's tiles.
    case transposed(TransposedConv)
    /// dcol = Wᵀ · g per output tile, folded back onto the images (adds, so dx starts at zero).
    case fold(FoldInputGradient)
    /// 1×1 stride 1: dx = Wᵀ · g per output tile, output pixels being input pixels.
    case pointwise(PointwiseInputGradient)

    /// Whether it reads the output gradient tile by tile (beside the weight gradient).
    var walksOutputTiles: Bool {
        if case .transposed = self { return false }
        return true
    }

    /// Only the fold adds into dx; the others overwrite it.
    var startsFromZero: Bool {
        if case .fold = self { return true }
        return false
    }

    /// Floats of `col` and `product` scratch per chunk for output tiles like `tiles`.
    func scratch(_ tiles: ColumnTiles) -> (col: Int, product: Int) {
        switch self {
        case .transposed: return (0, 0)
        case .fold(let f): return (f.geometry.patchSize * tiles.maxColumns, 0)
        case .pointwise(let p): return (0, tiles.maxImages > 1 ? p.geometry.inChannels * tiles.maxColumns : 0)
        }
    }

    /// dx of a tile's images from its output gradient `gradient` (O, columns; `gStride` apart).
    func add(_ tile: ColumnTile, gradient: UnsafePointer<Float>, gStride: Int, into dx: UnsafeMutablePointer<Float>,
             col: UnsafeMutablePointer<Float>, product: UnsafeMutablePointer<Float>?) {
        switch self {
        case .transposed: return
        case .fold(let f): f.add(tile, gradient: gradient, gStride: gStride, into: dx, col: col)
        case .pointwise(let p): p.add(tile, gradient: gradient, gStride: gStride, into: dx, product: product)
        }
    }
}

/// The input gradient of a stride-1 convolution as a forward convolution of the output gradient:
/// dx[c, i, j] = Σ_{o,a,b} g[o, i − (kh−1−p) + a, j − (kw−1−p) + b] · W[o, c, kh−1−a, kw−1−b].
/// Unfolding g (O·kh·kw rows) and one GEMM with inner size O·kh·kw beats a GEMM with inner size O
/// followed by an adding fold, and it takes the forward's own strategies (row-shifted, Winograd).
struct TransposedConv {
    let geometry: Conv2dGeometry
    /// W flipped in space with in/out channels swapped: (C, O, kh, kw).
    let flipped: Storage
    /// The forward strategy of `geometry` with the flipped weights.
    let forward: any ConvForward

    /// Whether a geometry's input gradient is worth computing this way: stride 1, a square kernel
    /// that is not pointwise, and O ≤ C, since it unfolds g (O·kh·kw rows) where folding writes
    /// C·kh·kw rows (a stem like 3 → 16 channels folds).
    static func applies(_ geo: Conv2dGeometry) -> Bool {
        geo.stride == 1 && !geo.isPointwise && geo.kernelHeight == geo.kernelWidth
            && geo.padding < geo.kernelHeight && geo.outChannels <= geo.inChannels
    }

    init(_ geo: Conv2dGeometry, _ w: UnsafePointer<Float>, options: Conv2dPlan.Options) {
        let (o, c, kh, kw) = (geo.outChannels, geo.inChannels, geo.kernelHeight, geo.kernelWidth)
        flipped = Storage(uninitializedCount: o * c * kh * kw)
        let dst = flipped.pointer
        for oc in 0..<o { for ic in 0..<c { for a in 0..<kh { for b in 0..<kw {
            dst[((ic * o + oc) * kh + a) * kw + b] = w[((oc * c + ic) * kh + (kh - 1 - a)) * kw + (kw - 1 - b)]
        } } } }
        // Valid by construction: the forward geometry was checked, and stride 1 maps Ho×Wo back to H×W.
        geometry = try! Conv2dGeometry(input: [geo.batch, o, geo.outHeight, geo.outWidth], weight: [c, o, kh, kw],
                                       stride: 1, padding: kh - 1 - geo.padding)
        forward = Conv2dPlan.forward(geometry, weight: flipped.pointer, options: options)
    }

    /// dx (images, C, H, W) = conv(g, flipped) for a chunk's images.
    func run(_ images: Range<Int>, gradient g: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        forward.run(images, g, into: dx, epilogue: .none)
    }
}

/// dcol (C·kh·kw, columns) = Wᵀ (C·kh·kw, O) · g (O, columns), folded back onto each image (strided
/// convolutions, and stride 1 with more outputs than inputs).
struct FoldInputGradient {
    let geometry: Conv2dGeometry
    /// (O, C·kh·kw)
    let weight: UnsafePointer<Float>

    func add(_ tile: ColumnTile, gradient: UnsafePointer<Float>, gStride: Int, into dx: UnsafeMutablePointer<Float>,
             col: UnsafeMutablePointer<Float>) {
        let (k, columns) = (geometry.patchSize, tile.columns)
        let inStride = geometry.inChannels * geometry.height * geometry.width
        Gemm.multiply(transposeA: true, m: k, n: columns, k: geometry.outChannels, a: weight, lda: k, b: gradient, ldb: gStride,
                      c: col, ldc: columns)
        for i in 0..<tile.count {
            Im2col.fold(col + i * tile.pixelsPerImage, geometry, rows: tile.rows, rowStride: columns,
                        into: dx + (tile.first + i) * inStride)
        }
    }
}

/// dx (C, columns) = Wᵀ (C, O) · g (O, columns) for a 1×1 stride-1 convolution.
struct PointwiseInputGradient {
    let geometry: Conv2dGeometry
    /// (O, C)
    let weight: UnsafePointer<Float>

    func add(_ tile: ColumnTile, gradient: UnsafePointer<Float>, gStride: Int, into dx: UnsafeMutablePointer<Float>,
             product: UnsafeMutablePointer<Float>?) {
        let (c, o) = (geometry.inChannels, geometry.outChannels)
        TileProduct.write(tile, transposeA: true, m: c, k: o, a: weight, lda: c, b: gradient, ldb: gStride,
                          product: product, into: dx, planeSize: geometry.height * geometry.width, epilogue: .none)
    }
}
