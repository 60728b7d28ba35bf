import CBLAS
import Foundation
import TensorEngine

/// OpenBLAS sgemm throughput: the peak the engine's GFLOP/s are compared with, and the
/// shapes the engine's convolutions hand it.
public enum SgemmBenchmark {
    public struct Result: Sendable {
        public var m, n, k, threads: Int
        public var gflops: Double
    }

    /// GFLOP/s of C (m×n) = A (m×k) · B (k×n) with OpenBLAS on `threads` threads (best of `rounds`).
    public static func run(m: Int, n: Int, k: Int, threads: Int, rounds: Int = 5) -> Result {
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(1) }
        var generator = RandomGenerator(seed: 0)
        let a = Tensor.uniform([m, k], generator: &generator), b = Tensor.uniform([k, n], generator: &generator)
        let c = Tensor(zeros: [m, n])
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        // Enough repetitions for about 0.3 s per round at 50 GFLOP/s.
        let repetitions = max(1, Int(15e9 / flops))
        var best = 0.0
        for _ in 0..<(rounds + 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repetitions {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                            a.pointer, Int32(k), b.pointer, Int32(n), 0, c.pointer, Int32(n))
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, flops * Double(repetitions) / seconds / 1e9)
        }
        return Result(m: m, n: n, k: k, threads: threads, gflops: best)
    }
}
