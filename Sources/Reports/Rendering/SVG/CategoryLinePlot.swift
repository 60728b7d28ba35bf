/// A value against categories, one line per role (or comparison) with its 95% interval as error
/// bars or as a band: robust accuracy against eps (the default axis titles), a paired difference
/// around a zero line, or a learning curve against epochs. The eps axis is categorical (the
/// sweep's eps labels, in increasing eps), because budgets are usually a geometric series
/// (1/255, 2/255, 4/255, 8/255) and a linear axis would crowd the small ones.
struct CategoryLinePlot {
    struct Series {
        var label: String
        var colour: String
        var dash: String?
        /// Index into `categories` and the estimate there; a role need not measure every eps.
        var points: [(category: Int, estimate: Estimate)]
    }

    var title: String
    var categories: [String]
    var series: [Series]
    var yTitle = "robust accuracy"
    var xTitle = "eps"
    /// Intervals as a shaded band around each line (learning curves) instead of error bars.
    var band = false
    var yDomain: (low: Double, high: Double) = (0, 1)
    /// A dashed horizontal reference line (0 for differences), nil for none.
    var reference: Double? = nil

    /// A domain that holds every mean and interval (and `including`), a little padded.
    static func fittedDomain(_ series: [Series], including fixed: Double? = nil) -> (low: Double, high: Double) {
        let values = series.flatMap { $0.points.flatMap { [$0.estimate.low ?? $0.estimate.mean, $0.estimate.high ?? $0.estimate.mean] } }
            .filter(\.isFinite) + (fixed.map { [$0] } ?? [])
        let low = values.min() ?? 0, high = values.max() ?? 1
        let pad = max((high - low) * 0.08, 0.01)
        return (low - pad, high + pad)
    }

    func svg() -> String {
        let legendWidth = PlotCanvas.legendWidth(series.map(\.label))
        let plotWidth = max(362, 56 * Double(categories.count)) // room for every eps label
        let canvas = PlotCanvas(width: 58 + plotWidth + legendWidth, height: PlotCanvas.height(320, legendEntries: series.count), legendWidth: legendWidth)
        var writer = XMLWriter()
        canvas.begin(&writer, title: title)
        let y = LinearScale(domain: yDomain, range: (canvas.bottom, canvas.top))
        canvas.yAxis(&writer, scale: y, title: yTitle)
        if let reference {
            let level = XMLWriter.number(y(reference))
            writer.leaf("line", ["x1": XMLWriter.number(canvas.left), "x2": XMLWriter.number(canvas.right), "y1": level, "y2": level,
                                 "stroke": "#888", "stroke-width": "1.5", "stroke-dasharray": "6 4"])
        }
        let padding = 28.0
        func x(_ category: Int) -> Double {
            categories.count == 1 ? (canvas.left + canvas.right) / 2
                : canvas.left + padding + Double(category) * (canvas.right - canvas.left - 2 * padding) / Double(categories.count - 1)
        }
        canvas.xAxis(&writer, ticks: categories.indices.map { (x($0), categories[$0]) }, title: xTitle)
        for (index, line) in series.enumerated() {
            // Neighbouring roles' error bars would sit on top of each other: spread them a little,
            // never more than about half the way to the next eps.
            let spacing = categories.count > 1 ? x(1) - x(0) : 80
            let shift = (Double(index) - Double(series.count - 1) / 2) * min(4, 0.5 * spacing / Double(series.count))
            let points = line.points.sorted { $0.category < $1.category }
            let bounded = points.filter { $0.estimate.low != nil && $0.estimate.high != nil }
            if band, bounded.count > 1 {
                let upper = bounded.map { "\(XMLWriter.number(x($0.category) + shift)),\(XMLWriter.number(y(min(yDomain.high, $0.estimate.high!))))" }
                let lower = bounded.reversed().map { "\(XMLWriter.number(x($0.category) + shift)),\(XMLWriter.number(y(max(yDomain.low, $0.estimate.low!))))" }
                writer.leaf("polygon", ["points": (upper + lower).joined(separator: " "), "fill": line.colour, "fill-opacity": "0.15", "stroke": "none"])
            }
            if points.count > 1 {
                let path = points.map { "\(XMLWriter.number(x($0.category) + shift)),\(XMLWriter.number(y($0.estimate.mean)))" }.joined(separator: " ")
                writer.leaf("polyline", ["points": path, "fill": "none", "stroke": line.colour, "stroke-width": "2", "stroke-dasharray": line.dash ?? "none"])
            }
            for point in points {
                let px = x(point.category) + shift
                if !band, let low = point.estimate.low, let high = point.estimate.high {
                    canvas.errorBar(&writer, at: px, from: y(low), to: y(high), colour: line.colour)
                }
                writer.open("circle", ["cx": XMLWriter.number(px), "cy": XMLWriter.number(y(point.estimate.mean)), "r": "3.5", "fill": line.colour])
                writer.element("title", text: "\(line.label), eps \(categories[point.category]): \(NumberText.estimate(point.estimate))")
                writer.close("circle")
            }
        }
        canvas.legend(&writer, entries: series.map { .init(label: $0.label, colour: $0.colour, dash: $0.dash) })
        writer.close("svg")
        return writer.text
    }
}
