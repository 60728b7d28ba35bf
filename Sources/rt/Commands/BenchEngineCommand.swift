import ArgumentParser
import Benchmarks
import Foundation

struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Training and PGD-10 throughput of small-cnn and resnet20 (batch 128, random data).")

    @Option(help: "Threads the engine uses.") var threads = 2
    @Option(help: "Timed rounds (the median is reported).") var rounds = 5
    @Option(help: "Workloads to run (comma-separated): small-cnn/train, small-cnn/pgd10, resnet20/train, resnet20/pgd10.")
    var workloads = EngineBenchmark.workloadNames.joined(separator: ",")
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let names = workloads.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        let report = try EngineBenchmark.run(threads: threads, names: names, rounds: rounds)
        if json {
            let items = report.workloads.map {
                "{\"name\": \"\($0.name)\", \"images_per_second\": \(String(format: "%.2f", $0.imagesPerSecond)), \"batch\": \($0.batch), \"gflops\": \(String(format: "%.2f", $0.gflops))}"
            }
            print("{\"threads\": \(report.threads), \"workloads\": [\(items.joined(separator: ", "))], \"peak_rss_bytes\": \(report.peakResidentBytes)}")
        } else {
            print("threads: \(report.threads)")
            for w in report.workloads {
                print(String(format: "%-18@ %10.1f images/s  %6.1f GFLOP/s  %10.1f images per CPU-second",
                             w.name as NSString, w.imagesPerSecond, w.gflops, w.imagesPerCPUSecond))
            }
            print("peak resident memory: \(report.peakResidentBytes / 1_048_576) MiB")
        }
    }
}
