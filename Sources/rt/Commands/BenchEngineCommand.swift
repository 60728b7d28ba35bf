import ArgumentParser
import Benchmarks
import Foundation

struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Training and PGD-10 throughput of small-cnn, resnet20 (batch 128) and resnet18 (3×64×64, batch 64) on random data.",
        discussion: "Each workload runs in a process of its own, so its peak resident memory is its own.")

    @Option(help: "Threads the engine uses.") var threads = 2
    @Option(help: "Timed rounds (the median is reported).") var rounds = 5
    @Option(help: "Workloads to run (comma-separated): \(EngineBenchmark.workloadNames.joined(separator: ", ")).")
    var workloads = EngineBenchmark.workloadNames.joined(separator: ",")
    @Flag(help: "Run every workload in this process (peak memory is then the largest of all).") var inProcess = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let names = workloads.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        var results: [(EngineBenchmark.Workload, Int)] = []
        if inProcess || names.count == 1 {
            let report = try EngineBenchmark.run(threads: threads, names: names, rounds: rounds)
            results = report.workloads.map { ($0, report.peakResidentBytes) }
        } else {
            let line = ProgressLine()
            for (index, name) in names.enumerated() {
                line.step(index + 1, of: names.count, name)
                results.append(try runIsolated(name))
            }
            line.clear()
        }
        let peak = results.map(\.1).max() ?? 0
        if json {
            func hundredths(_ x: Double) -> Double? { JSONLines.finite((x * 100).rounded() / 100) }
            let items = results.map { w, rss in
                Line.Item(name: w.name, imagesPerSecond: hundredths(w.imagesPerSecond), batch: w.batch, gflops: hundredths(w.gflops),
                          imagesPerCpuSecond: hundredths(w.imagesPerCPUSecond), peakRssBytes: rss)
            }
            try JSONLines.print(Line(threads: threads, workloads: items, peakRssBytes: peak))
        } else {
            print("threads: \(threads)")
            for (w, rss) in results {
                print(String(format: "%-16@ %8.1f images/s  %6.1f GFLOP/s  %8.1f images/CPU-second  peak %4d MiB",
                             w.name as NSString, w.imagesPerSecond, w.gflops, w.imagesPerCPUSecond, rss / 1_048_576))
            }
        }
    }

    /// What `--json` prints (and `runIsolated` reads back from a child).
    struct Line: Codable {
        struct Item: Codable { var name: String; var imagesPerSecond: Double?; var batch: Int; var gflops: Double?; var imagesPerCpuSecond: Double?; var peakRssBytes: Int }
        var threads: Int
        var workloads: [Item]
        var peakRssBytes: Int
    }

    /// Runs one workload in a child `rt bench engine` and reads its JSON.
    private func runIsolated(_ name: String) throws -> (EngineBenchmark.Workload, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["bench", "engine", "--threads", String(threads), "--rounds", String(rounds), "--workloads", name, "--json"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard process.terminationStatus == 0, let line = try? decoder.decode(Line.self, from: data), let item = line.workloads.first,
              let speed = item.imagesPerSecond, let gflops = item.gflops else {
            throw CommandFailure("workload \(name) failed in its child process (exit \(process.terminationStatus))")
        }
        let workload = EngineBenchmark.Workload(name: item.name, imagesPerSecond: speed, imagesPerCPUSecond: item.imagesPerCpuSecond ?? .nan,
                                                batch: item.batch, flopsPerImage: gflops * 1e9 / speed)
        return (workload, line.peakRssBytes)
    }
}
