import ArgumentParser
import Cluster
import Foundation
import Reports

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render the study stored in a run directory, or list its trials.",
        discussion: """
            markdown, html, csv and json render the study (docs/STUDY.md, "Reports"): per task and model, \
            each role's clean and robust accuracy over seeds as mean ± 95% CI (Student t), paired differences \
            against the `standard` stage by seed, confidence, CKA, and the cluster summary. html is one \
            self-contained file with SVG plots. text and trials-json list the stored trials as they are.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case markdown, html, csv, json, text
        case trialsJSON = "trials-json"
    }

    @Argument(help: "The run directory, e.g. runs/toy-100.")
    var runDirectory: String

    @Option(name: .long, help: "The study as markdown, html, csv or json; or every stored trial with its metrics or failure as text or trials-json.")
    var format: Format = .markdown

    @Option(name: .long, help: "Write to this file instead of standard output.")
    var output: String?

    @Flag(name: .long, help: "Print the event log (every state change, in order) instead: time, kind, trial, worker, detail.")
    var events = false

    func run() throws {
        let store = try RunDirectory.openStore(runDirectory)
        let text: String
        if events {
            text = try store.events().map { event in
                [String(format: "%.3f", event.at), event.kind, event.trial ?? "-", event.worker ?? "-", event.detail].joined(separator: "\t") + "\n"
            }.joined()
        } else {
            switch format {
            case .markdown: text = try ReportFormat.markdown.render(StudyReportBuilder.build(store: store))
            case .html: text = try ReportFormat.html.render(StudyReportBuilder.build(store: store))
            case .csv: text = try ReportFormat.csv.render(StudyReportBuilder.build(store: store))
            case .json: text = try ReportFormat.json.render(StudyReportBuilder.build(store: store))
            case .trialsJSON: text = String(decoding: try ClusterJSON.encode(store.report(), pretty: true), as: UTF8.self) + "\n"
            case .text: text = trialList(try store.report())
            }
        }
        if let output {
            do {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw OutputFileError(path: output, reason: error.localizedDescription)
            }
        } else {
            print(text, terminator: "")
        }
    }

    struct OutputFileError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "\(path): cannot write the report: \(reason)" }
    }

    private func trialList(_ report: SweepReport) -> String {
        var lines = ["sweep \(report.sweep): " + report.counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")]
        for (worker, totals) in report.workers.sorted(by: { $0.key < $1.key }) {
            lines.append(String(format: "worker %@: %d done, %.1f s", worker, totals.done, totals.seconds))
        }
        for trial in report.trials {
            let metrics = trial.metrics.map { JSONValue.object($0).description } ?? trial.failure ?? ""
            lines.append("\(trial.id)\t\(trial.state)\t\(trial.attempts)\t\(trial.worker ?? "-")\t\(metrics)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
