/// The frame every chart shares: the `<svg>` root with its title, a plot area, axes with
/// ticks and grid lines, and a legend on the right.
struct PlotCanvas {
    var width: Double
    var height: Double
    /// The plot area in pixels.
    var left: Double, top: Double, right: Double, bottom: Double

    init(width: Double, height: Double, legendWidth: Double) {
        self.width = width
        self.height = height
        left = 58
        top = 34
        right = width - legendWidth
        bottom = height - 50
    }

    /// Opens `<svg>` (close it with `writer.close("svg")`) and writes the title.
    func begin(_ writer: inout XMLWriter, title: String) {
        Self.openRoot(&writer, width: width, height: height, title: title)
        writer.element("text", ["x": XMLWriter.number(width / 2), "y": "18", "text-anchor": "middle", "font-weight": "bold"], text: title)
    }

    static func openRoot(_ writer: inout XMLWriter, width: Double, height: Double, title: String) {
        writer.open("svg", ["xmlns": "http://www.w3.org/2000/svg", "width": XMLWriter.number(width), "height": XMLWriter.number(height),
                            "viewBox": "0 0 \(XMLWriter.number(width)) \(XMLWriter.number(height))", "role": "img",
                            "font-family": "sans-serif", "font-size": "11"])
        writer.element("title", text: title)
    }

    /// Ticks, grid lines and the axis title of a vertical axis.
    func yAxis(_ writer: inout XMLWriter, scale: LinearScale, title: String) {
        for tick in scale.ticks() {
            let y = XMLWriter.number(scale(tick))
            writer.leaf("line", ["x1": XMLWriter.number(left), "x2": XMLWriter.number(right), "y1": y, "y2": y, "stroke": "#e3e3e3"])
            writer.element("text", ["x": XMLWriter.number(left - 6), "y": y, "text-anchor": "end", "dominant-baseline": "middle"],
                           text: NumberText.fixed(tick, digits: 2))
        }
        writer.leaf("line", ["x1": XMLWriter.number(left), "x2": XMLWriter.number(left), "y1": XMLWriter.number(top), "y2": XMLWriter.number(bottom), "stroke": "#444"])
        let middle = XMLWriter.number((top + bottom) / 2)
        writer.element("text", ["x": "14", "y": middle, "text-anchor": "middle", "transform": "rotate(-90 14 \(middle))"], text: title)
    }

    /// Labelled ticks along the bottom and the axis title.
    func xAxis(_ writer: inout XMLWriter, ticks: [(position: Double, label: String)], title: String) {
        writer.leaf("line", ["x1": XMLWriter.number(left), "x2": XMLWriter.number(right), "y1": XMLWriter.number(bottom), "y2": XMLWriter.number(bottom), "stroke": "#444"])
        for tick in ticks {
            let x = XMLWriter.number(tick.position)
            writer.leaf("line", ["x1": x, "x2": x, "y1": XMLWriter.number(bottom), "y2": XMLWriter.number(bottom + 4), "stroke": "#444"])
            writer.element("text", ["x": x, "y": XMLWriter.number(bottom + 16), "text-anchor": "middle"], text: tick.label)
        }
        writer.element("text", ["x": XMLWriter.number((left + right) / 2), "y": XMLWriter.number(height - 10), "text-anchor": "middle"], text: title)
    }

    /// A vertical (or, with `horizontal`, horizontal) error bar with caps, clipped to the plot area.
    func errorBar(_ writer: inout XMLWriter, at position: Double, from start: Double, to end: Double, horizontal: Bool = false, colour: String) {
        let low = horizontal ? max(left, min(start, end)) : max(top, min(start, end))
        let high = horizontal ? min(right, max(start, end)) : min(bottom, max(start, end))
        guard low <= high else { return }
        let p = XMLWriter.number(position), a = XMLWriter.number(low), b = XMLWriter.number(high)
        let capLow = XMLWriter.number(position - 4), capHigh = XMLWriter.number(position + 4)
        if horizontal {
            writer.leaf("line", ["x1": a, "x2": b, "y1": p, "y2": p, "stroke": colour])
            for x in [a, b] { writer.leaf("line", ["x1": x, "x2": x, "y1": capLow, "y2": capHigh, "stroke": colour]) }
        } else {
            writer.leaf("line", ["x1": p, "x2": p, "y1": a, "y2": b, "stroke": colour])
            for y in [a, b] { writer.leaf("line", ["x1": capLow, "x2": capHigh, "y1": y, "y2": y, "stroke": colour]) }
        }
    }

    struct LegendEntry {
        var label: String
        var colour: String
        /// SVG `stroke-dasharray` of the entry's line, nil for solid.
        var dash: String?
    }

    /// A line swatch and a label per entry, one below the other, right of the plot area.
    func legend(_ writer: inout XMLWriter, entries: [LegendEntry]) {
        for (index, entry) in entries.enumerated() {
            let y = XMLWriter.number(top + 6 + Double(index) * Self.legendLineHeight)
            writer.leaf("line", ["x1": XMLWriter.number(right + 14), "x2": XMLWriter.number(right + 32), "y1": y, "y2": y,
                                 "stroke": entry.colour, "stroke-width": "3", "stroke-dasharray": entry.dash ?? "none"])
            writer.element("text", ["x": XMLWriter.number(right + 38), "y": y, "dominant-baseline": "middle"], text: entry.label)
        }
    }

    static let legendLineHeight = 18.0

    /// The height a chart needs so that its legend fits beside the plot.
    static func height(_ preferred: Double, legendEntries: Int) -> Double {
        max(preferred, 34 + 16 + legendLineHeight * Double(legendEntries))
    }

    /// Pixels a legend needs for these labels (sans-serif 11 px averages under 7 px a character).
    static func legendWidth(_ labels: [String]) -> Double {
        50 + 7 * Double(labels.map(\.count).max() ?? 0)
    }
}
