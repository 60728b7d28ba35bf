import CBLAS

/// Row-major single-precision GEMM through OpenBLAS: C = alpha * op(A) * op(B) + beta * C,
/// where op(A) is M×K and op(B) is K×N.
enum Gemm {
    private static let singleThreadedBLAS: Void = { openblas_set_num_threads(1) }()

    @inline(__always)
    static func multiply(transposeA: Bool = false, transposeB: Bool = false,
                         m: Int, n: Int, k: Int, alpha: Float = 1,
                         a: UnsafePointer<Float>, lda: Int,
                         b: UnsafePointer<Float>, ldb: Int,
                         beta: Float = 0,
                         c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = singleThreadedBLAS
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS leaves C untouched for K = 0; PyTorch semantics want beta * C.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The same product with the rows of C split across the engine's threads.
    static func parallelMultiply(transposeA: Bool = false, transposeB: Bool = false,
                                 m: Int, n: Int, k: Int, alpha: Float = 1,
                                 a: UnsafePointer<Float>, lda: Int,
                                 b: UnsafePointer<Float>, ldb: Int,
                                 beta: Float = 0,
                                 c: UnsafeMutablePointer<Float>, ldc: Int) {
        // Split whichever output dimension is larger, so each thread keeps a large GEMM.
        if m >= n {
            Parallel.forEachChunk(m, grain: 16) { _, rows in
                let aRows = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
                multiply(transposeA: transposeA, transposeB: transposeB, m: rows.count, n: n, k: k, alpha: alpha,
                         a: aRows, lda: lda, b: b, ldb: ldb, beta: beta, c: c + rows.lowerBound * ldc, ldc: ldc)
            }
        } else {
            Parallel.forEachChunk(n, grain: 16) { _, cols in
                let bCols = transposeB ? b + cols.lowerBound * ldb : b + cols.lowerBound
                multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: cols.count, k: k, alpha: alpha,
                         a: a, lda: lda, b: bCols, ldb: ldb, beta: beta, c: c + cols.lowerBound, ldc: ldc)
            }
        }
    }
}
