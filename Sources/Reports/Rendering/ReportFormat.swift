import Cluster
import Foundation

/// The renderings of a `StudyReport` that `rt report` offers.
public enum ReportFormat: String, CaseIterable, Sendable {
    case markdown, html, csv, json

    public func render(_ report: StudyReport) throws -> String {
        switch self {
        case .markdown: return MarkdownRenderer.render(report)
        case .html: return HTMLRenderer.render(report)
        case .csv: return CSVRenderer.render(report)
        case .json: return String(decoding: try ClusterJSON.encode(report, pretty: true), as: UTF8.self) + "\n"
        }
    }
}
