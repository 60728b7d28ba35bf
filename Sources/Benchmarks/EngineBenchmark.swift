import Foundation
import NeuralNetworks
import Robustness
import TensorEngine

/// The engine benchmark of BENCHMARKS.md: training and PGD-10 throughput of the models of
/// `EngineWorkload.all` on random data; the same workloads as scripts/bench/pytorch_engine.py.
public enum EngineBenchmark {
    public struct Workload: Codable, Sendable {
        public var name: String
        public var imagesPerSecond: Double
        /// Images per second of process CPU time (user + system): comparable across runs on a busy machine.
        public var imagesPerCPUSecond: Double
        public var batch: Int
        /// Multiply-adds ×2 of the workload per image, for GFLOP/s.
        public var flopsPerImage: Double
        public var gflops: Double { imagesPerSecond * flopsPerImage / 1e9 }

        public init(name: String, imagesPerSecond: Double, imagesPerCPUSecond: Double, batch: Int, flopsPerImage: Double) {
            (self.name, self.imagesPerSecond, self.imagesPerCPUSecond, self.batch, self.flopsPerImage) =
                (name, imagesPerSecond, imagesPerCPUSecond, batch, flopsPerImage)
        }
    }

    public struct Report: Sendable {
        public var threads: Int
        public var workloads: [Workload]
        public var peakResidentBytes: Int
    }

    public static let workloadNames = EngineWorkload.all.map(\.name)

    /// Runs the named workloads: `warmup` untimed rounds, then the median of `rounds` timed ones.
    /// `batch` overrides each workload's own batch size.
    public static func run(threads: Int, names: [String] = workloadNames, batch batchOverride: Int? = nil,
                           rounds: Int = 5, warmup: Int = 1, minimumRoundSeconds: Double = 1) throws -> Report {
        Parallel.threads = threads
        var results: [Workload] = []
        for name in names {
            guard let workload = EngineWorkload.named(name) else {
                throw TensorError.invalidArgument(op: "bench", reason: "unknown workload '\(name)'; known: \(workloadNames.joined(separator: ", "))")
            }
            let (inputShape, batch) = (workload.inputShape, batchOverride ?? workload.batch)
            let description = ModelDescription(name: workload.model, numClasses: 10, inputShape: inputShape,
                                               mean: Array(repeating: 0.5, count: inputShape[0]),
                                               std: Array(repeating: 0.25, count: inputShape[0]))
            let model = try ModelZoo.make(description, seed: 0)
            var generator = RandomGenerator(seed: 1)
            let images = Tensor.uniform([batch] + inputShape, generator: &generator)
            let labels = (0..<batch).map { _ in generator.nextInt(below: 10) }
            let step: () throws -> Void
            if workload.kind == .train {
                let optimizer = SGD(groups: [ParameterGroup(parameters: model.namedParameters, learningRate: 0.01)], momentum: 0.9)
                model.train()
                step = {
                    optimizer.zeroGrad()
                    let loss = try model(images).crossEntropy(labels: labels)
                    try loss.backward()
                    optimizer.step()
                }
            } else {
                model.eval()
                model.freeze([""])
                step = { _ = try pgd(model, images, labels, generator: &generator) }
            }
            let (seconds, cpuSeconds) = try timeRounds(step, rounds: rounds, warmup: warmup, minimumRoundSeconds: minimumRoundSeconds)
            let flops = FlopCount.forward(model, inputShape: inputShape) * workload.forwardsPerImage
            results.append(Workload(name: name, imagesPerSecond: Double(batch) / seconds,
                                    imagesPerCPUSecond: Double(batch) / cpuSeconds, batch: batch, flopsPerImage: flops))
        }
        return Report(threads: threads, workloads: results, peakResidentBytes: peakResidentBytes())
    }

    /// PGD-10 under L∞ (eps 8/255, step 2/255, random start): the attack `rt attack` runs
    /// (Robustness.ProjectedGradientAttack), including its final forward pass on the result.
    static func pgd(_ model: ImageClassifier, _ x: Tensor, _ labels: [Int], generator: inout RandomGenerator) throws -> Tensor {
        let settings = PGDSettings(norm: .linf, eps: 8 / 255, steps: 10, stepSize: 2 / 255, start: .uniform, seed: generator.next())
        return try ProjectedGradientAttack.run(model, images: x, loss: .crossEntropy(labels: labels), settings: settings).images
    }

    /// Median wall and CPU seconds per call of `step`, each timed round repeating it for at least `minimumRoundSeconds`.
    static func timeRounds(_ step: () throws -> Void, rounds: Int, warmup: Int,
                           minimumRoundSeconds: Double) throws -> (wall: Double, cpu: Double) {
        for _ in 0..<warmup { try step() }
        var perCall: [(wall: Double, cpu: Double)] = []
        for _ in 0..<max(rounds, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = cpuSeconds()
            var calls = 0
            var elapsed = 0.0
            repeat {
                try step()
                calls += 1
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } while elapsed < minimumRoundSeconds
            perCall.append((elapsed / Double(calls), (cpuSeconds() - cpuStart) / Double(calls)))
        }
        let byWall = perCall.sorted { $0.wall < $1.wall }
        return byWall[byWall.count / 2]
    }

    /// User + system CPU seconds of this process, all its threads.
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024  // KiB on Linux
    }
}
