/// The weight gradient of a convolution whose weights outweigh its per-chunk output: the deep
/// layers of resnet18 at 64×64 (layer4: 512 channels × 4 pixels × 64 images, a 9.4 MB weight).
/// The per-chunk path gives every chunk of the batch its own zeroed dW and sums them afterwards,
/// which there moves more memory than the GEMMs do arithmetic (8 chunks at 2 threads: 75 MB
/// zeroed and summed for layer4's 9.4 MB). Instead the whole batch is unfolded once and one
/// GEMM with inner size N·Ho·Wo runs, its output rows split across the threads:
///
///     dW (O, K) = G (O, N·P) · colᵀ (N·P, K)
///
/// No partials, and each row's sum runs in the same order whatever the timing.
enum BatchWeightGradient {
    /// Whether `chunks` partial weight gradients would cost more than unfolding the whole batch.
    static func applies(_ g: Conv2dGeometry, chunks: Int) -> Bool {
        chunks > 1 && chunks * g.outChannels > g.batch * g.outPixels
    }

    /// dW (O, C, kh, kw) from the output gradient `gp` (N, O, Ho, Wo) and the input `xp` (N, C, H, W).
    static func compute(_ gp: UnsafePointer<Float>, _ xp: UnsafePointer<Float>, _ geo: Conv2dGeometry) -> Storage {
        let (k, p, o) = (geo.patchSize, geo.outPixels, geo.outChannels)
        let columns = geo.batch * p
        let inStride = geo.inChannels * geo.height * geo.width
        let col = Storage(uninitializedCount: k * columns), gathered = Storage(uninitializedCount: o * columns)
        // col (K, N·P): image i's patches in columns [i·P, (i+1)·P); G (O, N·P) likewise.
        Parallel.forEachChunk(geo.batch, piecesPerThread: Conv2d.piecesPerThread) { _, images in
            for i in images {
                Im2col.unfold(xp + i * inStride, geo, rows: 0..<geo.outHeight, into: col.pointer + i * p, rowStride: columns)
                for r in 0..<o { (gathered.pointer + r * columns + i * p).update(from: gp + (i * o + r) * p, count: p) }
            }
        }
        let dw = Storage(uninitializedCount: o * k)
        Gemm.parallelMultiply(transposeB: true, m: o, n: k, k: columns, a: gathered.pointer, lda: columns,
                              b: col.pointer, ldb: columns, c: dw.pointer, ldc: k)
        return dw
    }
}
