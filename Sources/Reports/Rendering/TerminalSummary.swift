/// What `rt study` prints when a sweep ends: the headline section and the sanity warnings as plain text, its tables
/// aligned and split into column blocks so that no line is wider than the terminal's 100
/// columns. The wide tables stay in report.md and report.html.
public enum TerminalSummary {
    public static let width = 100

    public static func render(_ report: StudyReport, width: Int = TerminalSummary.width) -> String {
        var lines = ["Study: \(report.sweep)", ""]
        let blocks = report.hasStudyResults ? HeadlineSection.blocks(report, figures: false) + WarningSection.blocks(report, forTerminal: true)
            : [.paragraph("No study results: none of the done trials stores study metrics.")]
        for block in blocks {
            switch block {
            case let .heading(_, text): lines += [text, String(repeating: "=", count: min(text.count, width)), ""]
            case let .paragraph(text): lines += wrap(text, width: width) + [""]
            case let .table(table): lines += self.table(table, width: width) + [""]
            case .figure: break
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Columns padded to their widest cell (numbers right-aligned); when the row would pass
    /// `width`, the columns after the first go into further blocks, each repeating the first.
    static func table(_ table: ReportTable, width: Int) -> [String] {
        let all = [table.header] + table.rows
        let widths = table.header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        var blocks: [[Int]] = [], current: [Int] = [], used = widths.first ?? 0
        for column in table.header.indices.dropFirst() {
            if !current.isEmpty && used + 2 + widths[column] > width {
                blocks.append(current)
                current = []
                used = widths[0]
            }
            current.append(column)
            used += 2 + widths[column]
        }
        if !current.isEmpty || blocks.isEmpty { blocks.append(current) }
        var lines: [String] = []
        for (index, columns) in blocks.enumerated() {
            if index > 0 { lines.append("") }
            for (rowIndex, row) in all.enumerated() {
                let cells = ([0] + columns).map { column -> String in
                    let text = row.indices.contains(column) ? row[column] : ""
                    let pad = String(repeating: " ", count: max(widths[column] - text.count, 0))
                    return table.numericColumns.contains(column) ? pad + text : text + pad
                }
                lines.append(String(cells.joined(separator: "  ").reversed().drop { $0 == " " }.reversed()))
                if rowIndex == 0 {
                    lines.append(([0] + columns).map { String(repeating: "-", count: widths[$0]) }.joined(separator: "  "))
                }
            }
        }
        return lines
    }

    /// Words filled into lines of at most `width` characters (a longer word stands alone).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
