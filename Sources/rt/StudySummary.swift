import Cluster
import Foundation
import Reports

/// What `rt study` prints when the sweep ends: the headline (fits 100 columns), and where the
/// full reports are.
enum StudySummary {
    static func print(runDirectory: URL, wallSeconds: Double) throws {
        let store = try RunStore(path: RunStore.url(runDirectory: runDirectory).path, readOnly: true)
        let report = try StudyReportBuilder.build(store: store)
        let markdown = try ReportFormat.markdown.render(report)
        let html = runDirectory.appendingPathComponent("report.html")
        try ReportFormat.html.render(report).write(to: html, atomically: true, encoding: .utf8)
        try markdown.write(to: runDirectory.appendingPathComponent("report.md"), atomically: true, encoding: .utf8)
        Swift.print(TerminalSummary.render(report))
        Swift.print(String(format: "Study finished in %.0f s. HTML report: %@", wallSeconds, html.path))
        Swift.print("The full report (accuracy tables, success rates, learning curves, CKA, cluster):")
        Swift.print("  \(runDirectory.appendingPathComponent("report.md").path)")
        Swift.print("Re-render with: rt report \(runDirectory.path) --format markdown|html|csv|json")
    }
}
