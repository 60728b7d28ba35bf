import Dispatch
import CBLAS

/// The engine's own thread pool. OpenBLAS is kept single-threaded and the engine
/// splits work (images of a batch, rows of a GEMM, channels) across `threads`
/// workers itself, so small per-image GEMMs scale and nothing is oversubscribed.
public enum Parallel {
    nonisolated(unsafe) private static var configuredThreads = 1

    /// Number of threads kernels use. Set once at start-up (`--threads N`).
    public static var threads: Int {
        get { configuredThreads }
        set {
            configuredThreads = max(1, newValue)
            openblas_set_num_threads(1)
        }
    }

    /// Runs `body(chunk, range)` over `0..<count` split into at most `threads` contiguous chunks.
    /// Work smaller than `grain` items per thread stays on the calling thread.
    @inline(__always)
    public static func forEachChunk(_ count: Int, grain: Int = 1, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        let workers = min(threads, max(1, count / max(grain, 1)))
        if workers <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = count * w / workers, hi = count * (w + 1) / workers
            if lo < hi { body(w, lo..<hi) }
        }
    }

    /// Elements per thread below which an elementwise op is not worth splitting.
    public static let elementwiseGrain = 1 << 16

    /// Number of chunks `forEachChunk` will use for `count` items.
    public static func chunkCount(_ count: Int, grain: Int = 1) -> Int {
        min(threads, max(1, count / max(grain, 1)))
    }
}
