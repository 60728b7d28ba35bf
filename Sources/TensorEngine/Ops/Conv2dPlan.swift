/// How one convolution runs, chosen once from its geometry, the engine's threads and which
/// results are wanted: one strategy for the output, one for the input gradient and one for the
/// weight gradient. `Conv2d.forward` and `Conv2d.backward` are loops over the batch's chunks that
/// call what the plan holds.
struct Conv2dPlan {
    /// What the caller wants computed.
    struct Parts: OptionSet {
        let rawValue: Int
        static let output = Parts(rawValue: 1)
        static let inputGradient = Parts(rawValue: 2)
        static let weightGradient = Parts(rawValue: 4)
    }

    /// Strategy switches beyond the geometry.
    struct Options: Equatable {
        /// Winograd F(2×2, 3×3) for 3×3 stride-1 padding-1 convolutions (`WinogradConv`): off or on,
        /// from `RT_WINOGRAD` unless a caller says otherwise.
        var winograd: WinogradConv.Use = .current
    }

    let geometry: Conv2dGeometry
    let output: (any ConvForward)?
    let inputGradient: ConvInputGradient?
    let weightGradient: ConvWeightGradient?
    /// Chunks of the batch (`Parallel.forEachChunk` with `Conv2d.piecesPerThread`).
    let chunks: Int

    /// `weight` (O, C, kh, kw) must outlive the plan: strategies keep pointers into it.
    init(_ geo: Conv2dGeometry, weight: UnsafePointer<Float>, parts: Parts, options: Options = Options()) {
        geometry = geo
        chunks = Parallel.chunkCount(geo.batch, piecesPerThread: Conv2d.piecesPerThread)
        output = parts.contains(.output) ? Conv2dPlan.forward(geo, weight: weight, options: options) : nil

        if !parts.contains(.inputGradient) {
            inputGradient = nil
        } else if geo.isPointwise {
            inputGradient = .pointwise(PointwiseInputGradient(geometry: geo, weight: weight))
        } else if TransposedConv.applies(geo) {
            inputGradient = .transposed(TransposedConv(geo, weight, options: options))
        } else {
            inputGradient = .fold(FoldInputGradient(geometry: geo, weight: weight))
        }

        if !parts.contains(.weightGradient) {
            weightGradient = nil
        } else if BatchWeightGradient.applies(geo, chunks: chunks) {
            weightGradient = .batchWide(geo)
        } else if Conv2dPlan.rowShiftedTiles(geo) {
            weightGradient = .rowShifted(RowShiftedWeightGradient(geo, chunks: chunks))
        } else {
            weightGradient = .chunkPartials(ChunkPartialsWeightGradient(geo, chunks: chunks))
        }
    }

    /// Whether the backward pass walks the output gradient tile by tile inside the chunks.
    var walksOutputTiles: Bool { weightGradient?.walksOutputTiles == true || inputGradient?.walksOutputTiles == true }

    /// The output strategy of a geometry, with `weight` (O, C, kh, kw).
    static func forward(_ geo: Conv2dGeometry, weight: UnsafePointer<Float>, options: Options) -> any ConvForward {
        if WinogradConv.chosen(for: geo, options.winograd) { return WinogradConv(geo, weight: weight) }
        if geo.isPointwise { return PointwiseForward(geometry: geo, weight: weight) }
        if rowShiftedTiles(geo) { return RowShiftedForward(geo, weight: weight) }
        return Im2colForward(geometry: geo, weight: weight)
    }

    /// Whether the row-shifted path applies and some tile is a single image (the only tiles that
    /// take it): on small maps every tile holds several images, and resnet18's layer4 would
    /// rearrange its 9.4 MB of weights for nothing.
    static func rowShiftedTiles(_ geo: Conv2dGeometry) -> Bool {
        RowShiftedConv.applies(geo) && ColumnTiles.someTileIsOneImage(geo.batch, rows: geo.outHeight, width: geo.outWidth)
    }
}
