import ArgumentParser
import Benchmarks
import Foundation

struct BenchSgemmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sgemm",
        abstract: "OpenBLAS sgemm GFLOP/s (the peak the engine benchmark is compared with).")

    @Option(help: "OpenBLAS threads.") var threads = 2
    @Option(help: "Rows of A and C (C = A·B, A is m×k, B is k×n).") var m = 2048
    @Option(help: "Columns of B and C.") var n = 2048
    @Option(help: "Columns of A and rows of B.") var k = 2048
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let r = SgemmBenchmark.run(m: m, n: n, k: k, threads: threads)
        if json {
            struct Line: Encodable { var threads: Int; var gflops: Double?; var m: Int; var n: Int; var k: Int }
            try JSONLines.print(Line(threads: r.threads, gflops: JSONLines.finite((r.gflops * 100).rounded() / 100), m: r.m, n: r.n, k: r.k))
        } else {
            print(String(format: "sgemm %d×%d×%d on %d threads: %.1f GFLOP/s", r.m, r.n, r.k, r.threads, r.gflops))
        }
    }
}
