import Cluster
import Foundation
import Reports

/// What `rt study` and `rt evaluate` do when the sweep ends: write report.html and report.md next
/// to the store, then print the headline (fits 100 columns) and where the full reports are.
enum StudySummary {
    /// Writes the reports; returns where they are.
    static func write(runDirectory: URL) throws -> (text: String, files: RunOutcome.Reports) {
        let store = try RunStore(path: RunStore.url(runDirectory: runDirectory).path, readOnly: true)
        let report = try StudyReportBuilder.build(store: store)
        let html = runDirectory.appendingPathComponent("report.html")
        let markdown = runDirectory.appendingPathComponent("report.md")
        try ReportFormat.html.render(report).write(to: html, atomically: true, encoding: .utf8)
        try ReportFormat.markdown.render(report).write(to: markdown, atomically: true, encoding: .utf8)
        return (TerminalSummary.render(report), RunOutcome.Reports(html: html.path, markdown: markdown.path))
    }

    /// Writes the reports and prints the summary for people.
    static func print(runDirectory: URL, wallSeconds: Double) throws {
        let (headline, files) = try write(runDirectory: runDirectory)
        Swift.print(headline)
        Swift.print(String(format: "Study finished in %.0f s. HTML report: %@", wallSeconds, files.html))
        Swift.print("The full report (accuracy tables, success rates, learning curves, CKA, cluster):")
        Swift.print("  \(files.markdown)")
        Swift.print("Re-render with: rt report \(runDirectory.path) --format markdown|html|csv|json")
    }
}
