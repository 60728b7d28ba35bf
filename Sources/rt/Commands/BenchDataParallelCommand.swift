import ArgumentParser
import Cluster
import Foundation

/// `rt bench dataparallel`: resnet20 training throughput with replicas and threads (BENCHMARKS.md),
/// measured by running `rt train` itself as a child process.
struct BenchDataParallelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataparallel",
        abstract: "resnet20 training images/s: 1 replica x 1 thread, 2 replicas x 1 thread, 1 replica x 2 threads.",
        discussion: """
        Each configuration is `rt train --model resnet20` on synthetic CIFAR-shaped data (3x32x32, 10 classes)
        with a global batch of --batch-size; the number is the images/s of the last epoch (the first warms
        up the buffer pool). Scaling efficiency = (2 replicas x 1 thread) / (2 x (1 replica x 1 thread)).
        The configurations run in turn, --rounds times, and each keeps its best round: other work on
        the machine only ever slows a run down, so the best is the least disturbed.
        """)

    @Option(help: "Training images per epoch.") var images = 1536
    @Option(help: "Epochs per configuration (the last is measured).") var epochs = 2
    @Option(name: .customLong("batch-size"), help: "Global batch size.") var batchSize = 128
    @Option(help: "Model to train.") var model = "resnet20"
    @Option(help: "Rounds over the configurations; each keeps its best.") var rounds = 2
    @Flag(help: "Print one JSON object (snake_case keys) instead of text.") var json = false

    struct Setup: Codable { var replicas: Int; var threads: Int; var imagesPerSecond: Double }
    struct Results: Codable {
        var model: String; var batchSize: Int; var images: Int; var rounds: Int
        var setups: [Setup]
        /// (2 replicas x 1 thread) / (2 x (1 replica x 1 thread))
        var scalingEfficiency: Double
        /// (2 replicas x 1 thread) / (1 replica x 2 threads)
        var replicasOverThreads: Double
        var loadAverageBefore: String; var loadAverageAfter: String
    }

    func run() throws {
        let before = loadAverage()
        var setups = [(1, 1), (2, 1), (1, 2)].map { Setup(replicas: $0.0, threads: $0.1, imagesPerSecond: 0) }
        let line = ProgressLine()
        for round in 1...max(1, rounds) {
            for index in setups.indices {
                line.step((round - 1) * setups.count + index + 1, of: max(1, rounds) * setups.count,
                          "round \(round): \(setups[index].replicas) replica(s) x \(setups[index].threads) thread(s)")
                let speed = try measure(replicas: setups[index].replicas, threads: setups[index].threads)
                setups[index].imagesPerSecond = max(setups[index].imagesPerSecond, speed)
                line.clear()
                if !json { print(String(format: "round %d: %d replica(s) x %d thread(s): %.1f images/s", round, setups[index].replicas, setups[index].threads, speed)) }
            }
        }
        let single = setups[0].imagesPerSecond, replicated = setups[1].imagesPerSecond, threaded = setups[2].imagesPerSecond
        let results = Results(model: model, batchSize: batchSize, images: images, rounds: rounds, setups: setups,
                              scalingEfficiency: replicated / (2 * single), replicasOverThreads: replicated / threaded,
                              loadAverageBefore: before, loadAverageAfter: loadAverage())
        if json {
            try JSONLines.print(results)
        } else {
            print(String(format: "scaling efficiency %.1f%%; 2 replicas x 1 thread vs 1 replica x 2 threads: %.2fx", results.scalingEfficiency * 100, results.replicasOverThreads))
            print("load average: before \(results.loadAverageBefore), after \(results.loadAverageAfter)")
        }
    }

    private func measure(replicas: Int, threads: Int) throws -> Double {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-bench-dp-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.jsonl")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil) // FileHandle(forWritingTo:) reports failure
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["train", "--model", model, "--dataset", "synthetic:classes=10,channels=3,size=32,train=\(images),test=64,seed=1",
                             "--epochs", "\(epochs)", "--batch-size", "\(batchSize)", "--threads", "\(threads)", "--replicas", "\(replicas)",
                             "--json", "--output", directory.appendingPathComponent("model.safetensors").path]
        process.standardOutput = try FileHandle(forWritingTo: output)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CommandFailure("rt train --replicas \(replicas) --threads \(threads) failed") }
        let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
        guard let last = lines.last(where: { $0.contains("\"images_per_second\"") }),
              let object = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any],
              let speed = object["images_per_second"] as? Double else {
            throw CommandFailure("no epoch line in the output of rt train")
        }
        return speed
    }
}
