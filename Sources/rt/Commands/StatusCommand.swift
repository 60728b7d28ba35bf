import ArgumentParser
import Cluster
import Foundation

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Ask a live coordinator how its sweep is going: trials by state, workers, throughput, ETA.")

    @Option(name: .long, help: "Coordinator endpoint (default: the newest live coordinator under --runs).")
    var connect: String?

    @Option(name: .long, help: "Key directory (with coordinator.key) when the coordinator uses CurveZMQ.")
    var keys: String?

    @Option(name: .long, help: "Directory that holds the run directories.")
    var runs: String = "runs"

    @Flag(name: .long, help: "Print one JSON object (snake_case keys) instead of text.")
    var json = false

    @Option(name: .long, help: "Seconds to wait for an answer.")
    var timeout: Double = 3

    func run() throws {
        guard let endpoint = connect ?? RunsCommand.liveCoordinators(runs: runs).first?.endpoint else {
            throw CommandFailure("no live coordinator found under \(runs); give --connect ADDR")
        }
        let client = try StatusClient(connect: endpoint, security: try KeyOptions.clientSecurity(keys: keys, coordinatorKey: nil))
        guard let status = try client.status(timeout: timeout) else {
            FileHandle.standardError.write(Data("rt status: no answer from \(endpoint) within \(timeout) s\n".utf8))
            throw ExitCode(2)
        }
        if json {
            return try JSONLines.print(status)
        }
        let counts = ["pending", "leased", "done", "failed"].map { "\(status.counts[$0] ?? 0) \($0)" }.joined(separator: ", ")
        print("sweep \(status.sweep): \(counts) of \(status.total)")
        print(String(format: "throughput %.2f trials/s, elapsed %.0f s, ETA %@", status.throughput, status.elapsedSeconds,
                     status.etaSeconds.map { String(format: "%.0f s", $0) } ?? "?"))
        for worker in status.workers {
            print("  \(worker.name) @ \(worker.host) pid \(worker.pid): \(worker.statistics.done) done, \(worker.statistics.failed) failed, running \(worker.running.map { trial in worker.progress[trial].map { "\(trial) (\(Int($0 * 100))%)" } ?? trial }.joined(separator: " "))")
            // What each running trial said last: its epoch, loss and latest learning-curve point.
            for trial in worker.running { if let note = worker.notes?[trial], !note.isEmpty { print("    \(trial): \(note)") } }
        }
        let dropped = status.dropped.filter { $0.value > 0 }
        if !dropped.isEmpty { print("dropped: " + dropped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")) }
    }
}
