import Foundation

/// A grid of values in [0, 1] (CKA) coloured from light to dark blue, each cell labelled with
/// its mean, with a colour-scale legend.
struct HeatMap {
    var title: String
    var rows: [String]
    var columns: [String]
    var value: (_ row: String, _ column: String) -> Estimate?

    static let light = (r: 247.0, g: 251.0, b: 255.0), dark = (r: 8.0, g: 48.0, b: 107.0)

    static func colour(_ value: Double) -> String {
        let t = min(1, max(0, value.isFinite ? value : 0))
        func channel(_ a: Double, _ b: Double) -> Int { Int((a + (b - a) * t).rounded()) }
        return String(format: "#%02x%02x%02x", channel(light.r, dark.r), channel(light.g, dark.g), channel(light.b, dark.b))
    }

    func svg() -> String {
        let cellWidth = max(64, 7 * Double(columns.map(\.count).max() ?? 0) + 12), cellHeight = 28.0
        let labelWidth = 16 + 7 * Double(rows.map(\.count).max() ?? 0)
        let top = 52.0, gridWidth = cellWidth * Double(columns.count), gridHeight = cellHeight * Double(rows.count)
        let legendX = labelWidth + gridWidth + 24, legendHeight = max(gridHeight, 100)
        let width = legendX + 60, height = top + legendHeight + 20
        var writer = XMLWriter()
        PlotCanvas.openRoot(&writer, width: width, height: height, title: title)
        writer.element("text", ["x": XMLWriter.number(width / 2), "y": "18", "text-anchor": "middle", "font-weight": "bold"], text: title)
        for (c, column) in columns.enumerated() {
            writer.element("text", ["x": XMLWriter.number(labelWidth + (Double(c) + 0.5) * cellWidth), "y": XMLWriter.number(top - 8), "text-anchor": "middle"], text: column)
        }
        for (r, row) in rows.enumerated() {
            let y = top + Double(r) * cellHeight
            writer.element("text", ["x": XMLWriter.number(labelWidth - 8), "y": XMLWriter.number(y + cellHeight / 2), "text-anchor": "end", "dominant-baseline": "middle"], text: row)
            for (c, column) in columns.enumerated() {
                let x = labelWidth + Double(c) * cellWidth
                let estimate = value(row, column)
                writer.open("rect", ["x": XMLWriter.number(x), "y": XMLWriter.number(y), "width": XMLWriter.number(cellWidth), "height": XMLWriter.number(cellHeight),
                                     "fill": estimate.map { Self.colour($0.mean) } ?? "#eeeeee", "stroke": "#ffffff"])
                writer.element("title", text: "\(row), \(column): \(NumberText.estimate(estimate))")
                writer.close("rect")
                writer.element("text", ["x": XMLWriter.number(x + cellWidth / 2), "y": XMLWriter.number(y + cellHeight / 2), "text-anchor": "middle",
                                        "dominant-baseline": "middle", "fill": (estimate?.mean ?? 0) > 0.55 ? "#ffffff" : "#222222"],
                               text: estimate.map { NumberText.fixed($0.mean, digits: 2) } ?? NumberText.missing)
            }
        }
        legend(&writer, x: legendX, top: top, height: legendHeight)
        writer.close("svg")
        return writer.text
    }

    /// The colour scale as stacked bands (no gradient definitions: ids could clash between figures).
    private func legend(_ writer: inout XMLWriter, x: Double, top: Double, height: Double) {
        let bands = 20
        for band in 0..<bands {
            let value = 1 - (Double(band) + 0.5) / Double(bands)
            writer.leaf("rect", ["x": XMLWriter.number(x), "y": XMLWriter.number(top + Double(band) * height / Double(bands)),
                                 "width": "14", "height": XMLWriter.number(height / Double(bands) + 0.5), "fill": Self.colour(value)])
        }
        for tick in [1.0, 0.5, 0.0] {
            writer.element("text", ["x": XMLWriter.number(x + 20), "y": XMLWriter.number(top + (1 - tick) * height), "dominant-baseline": "middle"],
                           text: NumberText.fixed(tick, digits: 1))
        }
    }
}
