import ArgumentParser
import Cluster
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print the trials and results stored in a run directory.")

    enum Format: String, ExpressibleByArgument { case json, text }

    @Argument(help: "The run directory, e.g. runs/toy-100.")
    var runDirectory: String

    @Option(name: .long, help: "json or text.")
    var format: Format = .text

    @Flag(name: .long, help: "Print the event log (every state change, in order) instead: time, kind, trial, worker, detail.")
    var events = false

    func run() throws {
        let storeURL = RunStore.url(runDirectory: URL(fileURLWithPath: runDirectory))
        guard FileManager.default.fileExists(atPath: storeURL.path) else {
            throw ValidationError("\(storeURL.path) does not exist: not a run directory")
        }
        let store = try RunStore(path: storeURL.path, readOnly: true)
        if events {
            for event in try store.events() {
                print([String(format: "%.3f", event.at), event.kind, event.trial ?? "-", event.worker ?? "-", event.detail].joined(separator: "\t"))
            }
            return
        }
        let report = try store.report()
        switch format {
        case .json:
            print(String(decoding: try ClusterJSON.encode(report, pretty: true), as: UTF8.self))
        case .text:
            print("sweep \(report.sweep): " + report.counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
            for (worker, totals) in report.workers.sorted(by: { $0.key < $1.key }) {
                print(String(format: "worker %@: %d done, %.1f s", worker, totals.done, totals.seconds))
            }
            for trial in report.trials {
                let metrics = trial.metrics.map { JSONValue.object($0).description } ?? trial.failure ?? ""
                print("\(trial.id)\t\(trial.state)\t\(trial.attempts)\t\(trial.worker ?? "-")\t\(metrics)")
            }
        }
    }
}
