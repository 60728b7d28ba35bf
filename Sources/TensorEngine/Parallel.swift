import Dispatch
import Synchronization
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

    /// Runs `body(chunk, range)` over `0..<count` split into at most `threads × piecesPerThread`
    /// contiguous chunks. Work smaller than `grain` items per chunk stays on the calling thread.
    /// More pieces than threads are handed out as threads free up, so a thread that the OS
    /// delays does not leave the other idle at the end; the chunks themselves do not depend on
    /// timing, so per-chunk partial results stay deterministic.
    @inline(__always)
    public static func forEachChunk(_ count: Int, grain: Int = 1, piecesPerThread: Int = 1,
                                    _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        let workers = chunkCount(count, grain: grain, piecesPerThread: piecesPerThread)
        if workers <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        // At most `threads` runners take the next chunk from a shared counter until none is left.
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: min(threads, workers)) { _ in
            while true {
                let w = next.add(1, ordering: .relaxed).oldValue
                guard w < workers else { return }
                let lo = count * w / workers, hi = count * (w + 1) / workers
                if lo < hi { body(w, lo..<hi) }
            }
        }
    }

    /// Elements per thread below which an elementwise op is not worth splitting.
    public static let elementwiseGrain = 1 << 16

    /// Number of chunks `forEachChunk` will use for `count` items.
    public static func chunkCount(_ count: Int, grain: Int = 1, piecesPerThread: Int = 1) -> Int {
        threads == 1 ? 1 : min(threads * max(piecesPerThread, 1), max(1, count / max(grain, 1)))
    }
}
