/// GitHub-flavoured Markdown: headings, paragraphs and pipe tables (no figures).
enum MarkdownRenderer {
    static func render(_ report: StudyReport) -> String {
        var lines: [String] = []
        for block in ReportOutline.blocks(report, figures: false) {
            switch block {
            case let .heading(level, text): lines += [String(repeating: "#", count: level) + " " + text, ""]
            case let .paragraph(text): lines += [text, ""]
            case let .table(table): lines += self.table(table) + [""]
            case .figure: break
            }
        }
        return lines.joined(separator: "\n")
    }

    static func table(_ table: ReportTable) -> [String] {
        let rule = table.header.indices.map { table.numericColumns.contains($0) ? "---:" : "---" }
        return ([table.header, rule] + table.rows).map { cells in
            "| " + cells.map(cell).joined(separator: " | ") + " |"
        }
    }

    /// A pipe would end the cell and a line break the row.
    private static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
