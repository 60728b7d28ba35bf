import Cluster
import Foundation
import Reports

/// What `rt study` prints when the sweep ends: the study's tables, and where the full reports are.
enum StudySummary {
    static func print(runDirectory: URL, wallSeconds: Double) throws {
        let store = try RunStore(path: RunStore.url(runDirectory: runDirectory).path, readOnly: true)
        let report = try StudyReportBuilder.build(store: store)
        let markdown = try ReportFormat.markdown.render(report)
        let html = runDirectory.appendingPathComponent("report.html")
        try ReportFormat.html.render(report).write(to: html, atomically: true, encoding: .utf8)
        try markdown.write(to: runDirectory.appendingPathComponent("report.md"), atomically: true, encoding: .utf8)
        Swift.print(summary(of: markdown))
        Swift.print(String(format: "Study finished in %.0f s. HTML report: %@", wallSeconds, html.path))
        Swift.print("The full report (success rates, confidence, CKA, cluster): \(runDirectory.appendingPathComponent("report.md").path);")
        Swift.print("re-render with: rt report \(runDirectory.path) --format markdown|html|csv|json")
    }

    /// The sections a researcher reads first: accuracy per task and the paired differences
    /// against standard. The rest stays in report.md and report.html.
    static func summary(of markdown: String) -> String {
        var kept: [Substring] = []
        var keeping = false
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#") {
                keeping = line.hasPrefix("## Accuracy on") || line.hasPrefix("## Paired differences") || line.hasPrefix("# ")
            }
            if keeping { kept.append(line) }
        }
        return kept.joined(separator: "\n")
    }
}
