/// A table as data, so Markdown and HTML show the same rows from one builder.
struct ReportTable {
    var header: [String]
    var rows: [[String]]
    /// Columns of numbers, right-aligned.
    var numericColumns: Set<Int> = []
}

/// The parts of a rendered report, in reading order.
enum ReportBlock {
    case heading(level: Int, text: String)
    case paragraph(String)
    case table(ReportTable)
    /// An SVG figure (HTML only) with its caption.
    case figure(svg: String, caption: String)
}
