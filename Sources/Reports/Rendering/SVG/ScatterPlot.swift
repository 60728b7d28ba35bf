/// One point per role at (mean x, mean y) with 95% error bars on both axes; both axes are
/// rates in [0, 1], zoomed to the points.
struct ScatterPlot {
    struct Point {
        var label: String
        var colour: String
        var x: Estimate
        var y: Estimate
    }

    var title: String
    var xTitle: String
    var yTitle: String
    var points: [Point]

    func svg() -> String {
        let legendWidth = PlotCanvas.legendWidth(points.map(\.label))
        let canvas = PlotCanvas(width: 400 + legendWidth, height: PlotCanvas.height(340, legendEntries: points.count), legendWidth: legendWidth)
        var writer = XMLWriter()
        canvas.begin(&writer, title: title)
        func extent(_ estimate: Estimate) -> [Double] { [estimate.low ?? estimate.mean, estimate.high ?? estimate.mean] }
        let x = LinearScale(domain: LinearScale.unitDomain(around: points.flatMap { extent($0.x) }), range: (canvas.left, canvas.right))
        let y = LinearScale(domain: LinearScale.unitDomain(around: points.flatMap { extent($0.y) }), range: (canvas.bottom, canvas.top))
        canvas.yAxis(&writer, scale: y, title: yTitle)
        canvas.xAxis(&writer, ticks: x.ticks().map { (x($0), NumberText.fixed($0, digits: 2)) }, title: xTitle)
        for point in points {
            let px = x(point.x.mean), py = y(point.y.mean)
            if let low = point.x.low, let high = point.x.high {
                canvas.errorBar(&writer, at: py, from: x(low), to: x(high), horizontal: true, colour: point.colour)
            }
            if let low = point.y.low, let high = point.y.high {
                canvas.errorBar(&writer, at: px, from: y(low), to: y(high), colour: point.colour)
            }
            writer.open("circle", ["cx": XMLWriter.number(px), "cy": XMLWriter.number(py), "r": "5", "fill": point.colour])
            writer.element("title", text: "\(point.label): \(xTitle) \(NumberText.estimate(point.x)), \(yTitle) \(NumberText.estimate(point.y))")
            writer.close("circle")
        }
        canvas.legend(&writer, entries: points.map { .init(label: $0.label, colour: $0.colour, dash: nil) })
        writer.close("svg")
        return writer.text
    }
}
