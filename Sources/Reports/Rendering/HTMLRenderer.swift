/// One self-contained page: inline CSS and SVG, no scripts, fonts or outside links (the contents
/// list links to the page's own sections). Written as XHTML (every element closed, only XML's
/// five entities) so an XML parser reads it as well as a browser.
enum HTMLRenderer {
    static let style = """
        body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
        table { border-collapse: collapse; margin: 0.75rem 0 1.5rem; font-size: 0.9rem; }
        th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; }
        th { background: #f3f3f3; }
        th:first-child, td:first-child { white-space: nowrap; }
        .scroll { overflow-x: auto; }
        td.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .figures { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: flex-start; }
        figure { margin: 1rem 0 2rem; width: min-content; }
        figcaption { font-size: 0.85rem; color: #555; }
        nav ol { columns: 2; font-size: 0.9rem; }
        """

    static func render(_ report: StudyReport) -> String {
        var writer = XMLWriter()
        writer.markup("<!DOCTYPE html>\n")
        writer.open("html", ["xmlns": "http://www.w3.org/1999/xhtml", "lang": "en"])
        writer.open("head")
        writer.leaf("meta", ["charset": "utf-8"])
        writer.element("title", text: "Study report: \(report.sweep)")
        writer.element("style", text: style)
        writer.close("head")
        writer.open("body")
        let blocks = ReportOutline.blocks(report, figures: true)
        let sections = blocks.compactMap { block -> String? in
            if case let .heading(2, text) = block { return text }
            return nil
        }
        var figuresOpen = false, section = 0
        for block in blocks {
            // Consecutive figures share a row when the window is wide enough.
            if case .figure = block {
                if !figuresOpen { writer.open("div", ["class": "figures"]) }
                figuresOpen = true
            } else if figuresOpen {
                writer.close("div")
                figuresOpen = false
            }
            switch block {
            case let .heading(2, text):
                section += 1
                writer.element("h2", ["id": "section-\(section)"], text: text)
            case let .heading(1, text):
                writer.element("h1", text: text)
                contents(sections, into: &writer)
            case let .heading(level, text): writer.element("h\(level)", text: text)
            case let .paragraph(text): writer.element("p", text: text)
            case let .table(table): self.table(table, into: &writer)
            case let .figure(svg, caption):
                writer.open("figure")
                writer.markup(svg)
                writer.element("figcaption", text: caption)
                writer.close("figure")
            }
        }
        if figuresOpen { writer.close("div") }
        writer.close("body")
        writer.close("html")
        return writer.text
    }

    /// The contents list under the title: one link per section, in order.
    private static func contents(_ sections: [String], into writer: inout XMLWriter) {
        guard sections.count > 1 else { return }
        writer.open("nav", ["aria-label": "Contents"])
        writer.element("strong", text: "Contents")
        writer.open("ol")
        for (index, text) in sections.enumerated() {
            writer.open("li")
            writer.element("a", ["href": "#section-\(index + 1)"], text: text)
            writer.close("li")
        }
        writer.close("ol")
        writer.close("nav")
    }

    private static func table(_ table: ReportTable, into writer: inout XMLWriter) {
        // A table with many attacks scrolls on its own instead of widening the page.
        writer.open("div", ["class": "scroll"])
        writer.open("table")
        writer.open("thead")
        writer.open("tr")
        for cell in table.header { writer.element("th", text: cell) }
        writer.close("tr")
        writer.close("thead")
        writer.open("tbody")
        for row in table.rows {
            writer.open("tr")
            for (column, cell) in row.enumerated() {
                if table.numericColumns.contains(column) { writer.element("td", ["class": "number"], text: cell) } else { writer.element("td", text: cell) }
            }
            writer.close("tr")
        }
        writer.close("tbody")
        writer.close("table")
        writer.close("div")
    }
}
