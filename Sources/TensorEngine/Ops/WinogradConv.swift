import Foundation

/// Winograd F(2×2, 3×3) for 3×3 stride-1 padding-1 convolutions (Lavin & Gray, 2016): each 2×2
/// block of the output comes from a 4×4 patch of the input with 16 multiplications per channel
/// pair instead of 36, so the GEMMs do 2.25× less arithmetic than im2col's, for transforms that
/// are linear in the activations' size:
///
///     V[ξ] (C, tiles) = (Bᵀ d B)[ξ]        per tile and input channel
///     U[ξ] (O, C)     = (G w Gᵀ)[ξ]        once per call
///     M[ξ] (O, tiles) = U[ξ] · V[ξ]        16 GEMMs through sgemm
///     y (2×2)         = Aᵀ M A             per tile and output channel, with the epilogue
///
/// The sums run in another order than the direct convolution's, so results differ by rounding
/// (docs/ARCHITECTURE.md gives the measured error on resnet's layers).
struct WinogradConv: ConvForward {
    /// Whether the plan takes this strategy. Off by default: on resnet18/train, resnet18/pgd10 and
    /// resnet20/train at 1 thread it cost 5–23% more CPU per image than the row-shifted/im2col
    /// paths (docs/ARCHITECTURE.md), so it stays an option to measure, not the engine's default.
    enum Use: String, Equatable, Sendable {
        /// im2col and row-shifted only.
        case off
        /// On every 3×3 stride-1 padding-1 convolution.
        case on

        /// `RT_WINOGRAD` (off or on; off when unset), read once at start-up.
        nonisolated(unsafe) static var current: Use = {
            guard let text = ProcessInfo.processInfo.environment["RT_WINOGRAD"] else { return .off }
            guard let use = Use(rawValue: text) else {
                FileHandle.standardError.write(Data("rt: RT_WINOGRAD must be off or on, not '\(text)'; using off\n".utf8))
                return .off
            }
            return use
        }()
    }

    static func applies(_ g: Conv2dGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.padding == 1
    }

    /// Whether `use` puts a geometry on this path.
    static func chosen(for g: Conv2dGeometry, _ use: Use) -> Bool {
        use == .on && applies(g)
    }

    let geometry: Conv2dGeometry
    /// U: 16 matrices (O, C).
    let transformedWeights: Storage
    /// 2×2 output tiles per row and per column of an image.
    let tileColumns: Int, tileRows: Int

    init(_ g: Conv2dGeometry, weight: UnsafePointer<Float>) {
        geometry = g
        (tileRows, tileColumns) = ((g.outHeight + 1) / 2, (g.outWidth + 1) / 2)
        transformedWeights = WinogradConv.transform(weights: weight, outChannels: g.outChannels, inChannels: g.inChannels)
    }

    /// Floats of V and M per block: about 1 MB, so a block's transforms stay in L2 for its GEMMs.
    /// Tests lower it to cut blocks across rows and images.
    nonisolated(unsafe) static var blockFloats = 1 << 18

    /// Tiles per block (the GEMMs' columns): `blockFloats` worth, but at least 64 for sgemm.
    var blockTiles: Int { max(1, min(64, Self.blockFloats), Self.blockFloats / (16 * (geometry.inChannels + geometry.outChannels))) }

    func run(_ images: Range<Int>, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, epilogue: ConvEpilogue) {
        let (c, o) = (geometry.inChannels, geometry.outChannels)
        let perImage = tileRows * tileColumns
        let total = images.count * perImage
        let capacity = min(blockTiles, total)
        let v = Storage(uninitializedCount: 16 * c * capacity), m = Storage(uninitializedCount: 16 * o * capacity)
        var start = 0
        while start < total {
            let count = min(capacity, total - start)
            let block = TileBlock(firstImage: images.lowerBound, start: start, count: count, perImage: perImage, tileColumns: tileColumns)
            transformInput(block, x, into: v.pointer)
            for xi in 0..<16 {
                Gemm.multiply(m: o, n: count, k: c, a: transformedWeights.pointer + xi * o * c, lda: c,
                              b: v.pointer + xi * c * count, ldb: count, c: m.pointer + xi * o * count, ldc: count)
            }
            transformOutput(block, m.pointer, into: y, epilogue: epilogue)
            start += count
        }
    }

    /// A run of consecutive tiles of a chunk (image-major, then tile rows, then tile columns),
    /// visited as segments that stay within one tile row.
    struct TileBlock {
        let firstImage: Int, start: Int, count: Int, perImage: Int, tileColumns: Int

        /// body(image, tile row, tile columns, index of the segment's first tile in the block)
        func forEachSegment(_ body: (Int, Int, Range<Int>, Int) -> Void) {
            var t = start
            let end = start + count
            while t < end {
                let image = t / perImage, inImage = t % perImage
                let row = inImage / tileColumns, column = inImage % tileColumns
                let n = min(tileColumns - column, end - t)
                body(firstImage + image, row, column..<(column + n), t - start)
                t += n
            }
        }
    }

    /// V[ξ][c][t] = (Bᵀ d B)[ξ] for the 4×4 patch d of each tile t, rows and columns 2·ty − 1 ..< 2·ty + 3
    /// of channel c (zeros outside the image).
    ///     Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
    private func transformInput(_ block: TileBlock, _ x: UnsafePointer<Float>, into v: UnsafeMutablePointer<Float>) {
        let (c, h, w) = (geometry.inChannels, geometry.height, geometry.width)
        let count = block.count, plane = c * count
        block.forEachSegment { image, ty, columns, first in
            let top = 2 * ty - 1
            for ch in 0..<c {
                let src = x + (image * c + ch) * h * w
                let out = v + ch * count + first - columns.lowerBound
                // Rows of the patch inside the image; rows outside read as zero.
                func row(_ i: Int) -> UnsafePointer<Float>? { top + i >= 0 && top + i < h ? src + (top + i) * w : nil }
                let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3))
                for tx in columns {
                    let left = 2 * tx - 1
                    var d = (SIMD4<Float>(), SIMD4<Float>(), SIMD4<Float>(), SIMD4<Float>())
                    if left >= 0 && left + 3 < w {
                        if let r0 { d.0 = SIMD4(r0[left], r0[left + 1], r0[left + 2], r0[left + 3]) }
                        if let r1 { d.1 = SIMD4(r1[left], r1[left + 1], r1[left + 2], r1[left + 3]) }
                        if let r2 { d.2 = SIMD4(r2[left], r2[left + 1], r2[left + 2], r2[left + 3]) }
                        if let r3 { d.3 = SIMD4(r3[left], r3[left + 1], r3[left + 2], r3[left + 3]) }
                    } else {
                        func load(_ r: UnsafePointer<Float>?) -> SIMD4<Float> {
                            guard let r else { return SIMD4() }
                            var s = SIMD4<Float>()
                            for j in 0..<4 where left + j >= 0 && left + j < w { s[j] = r[left + j] }
                            return s
                        }
                        d = (load(r0), load(r1), load(r2), load(r3))
                    }
                    // Bᵀ d (rows), then (Bᵀ d) B (columns of each row).
                    let rowsT = (d.0 - d.2, d.1 + d.2, d.2 - d.1, d.1 - d.3)
                    func columnsB(_ r: SIMD4<Float>) -> SIMD4<Float> { SIMD4(r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3]) }
                    let e = (columnsB(rowsT.0), columnsB(rowsT.1), columnsB(rowsT.2), columnsB(rowsT.3))
                    let at = out + tx
                    for j in 0..<4 {
                        at[j * plane] = e.0[j]
                        at[(4 + j) * plane] = e.1[j]
                        at[(8 + j) * plane] = e.2[j]
                        at[(12 + j) * plane] = e.3[j]
                    }
                }
            }
        }
    }

    /// y (2×2) = Aᵀ M A per tile and output channel, then the epilogue, clipped to the output.
    ///     Aᵀ = [1 1 1 0; 0 1 −1 −1]
    private func transformOutput(_ block: TileBlock, _ m: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                                 epilogue: ConvEpilogue) {
        let (o, ho, wo) = (geometry.outChannels, geometry.outHeight, geometry.outWidth)
        let count = block.count, plane = o * count
        block.forEachSegment { image, ty, columns, first in
            let top = 2 * ty
            let rowsInside = min(2, ho - top)
            for ch in 0..<o {
                let offset = (image * o + ch) * ho * wo
                let bias = epilogue.bias?[ch] ?? 0
                let from = m + ch * count + first - columns.lowerBound
                for tx in columns {
                    let at = from + tx
                    var r = (SIMD4<Float>(), SIMD4<Float>(), SIMD4<Float>(), SIMD4<Float>())
                    for j in 0..<4 {
                        r.0[j] = at[j * plane]; r.1[j] = at[(4 + j) * plane]
                        r.2[j] = at[(8 + j) * plane]; r.3[j] = at[(12 + j) * plane]
                    }
                    // Aᵀ M (two rows of four), then (Aᵀ M) A.
                    let t0 = r.0 + r.1 + r.2, t1 = r.1 - r.2 - r.3
                    let out = (SIMD2(t0[0] + t0[1] + t0[2], t0[1] - t0[2] - t0[3]),
                               SIMD2(t1[0] + t1[1] + t1[2], t1[1] - t1[2] - t1[3]))
                    let left = 2 * tx, columnsInside = min(2, wo - left)
                    for i in 0..<rowsInside {
                        let row = i == 0 ? out.0 : out.1
                        for j in 0..<columnsInside {
                            let index = offset + (top + i) * wo + left + j
                            var value = row[j] + bias
                            if let residual = epilogue.residual { value += residual[index] }
                            y[index] = epilogue.relu && value < 0 ? 0 : value
                        }
                    }
                }
            }
        }
    }

    /// U[ξ][o][c] = (G w[o][c] Gᵀ)[ξ] for weights (O, C, 3, 3).
    ///     G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
    static func transform(weights w: UnsafePointer<Float>, outChannels o: Int, inChannels c: Int) -> Storage {
        let u = Storage(uninitializedCount: 16 * o * c)
        let plane = o * c
        for oc in 0..<o {
            for ic in 0..<c {
                let k = w + (oc * c + ic) * 9
                // G w: four rows of three.
                let g0 = SIMD3(k[0], k[1], k[2]), g1 = SIMD3(k[3], k[4], k[5]), g2 = SIMD3(k[6], k[7], k[8])
                let rows = (g0, (g0 + g1 + g2) * 0.5, (g0 - g1 + g2) * 0.5, g2)
                func columnsG(_ r: SIMD3<Float>) -> SIMD4<Float> {
                    SIMD4(r[0], (r[0] + r[1] + r[2]) * 0.5, (r[0] - r[1] + r[2]) * 0.5, r[2])
                }
                let e = (columnsG(rows.0), columnsG(rows.1), columnsG(rows.2), columnsG(rows.3))
                let at = u.pointer + oc * c + ic
                for j in 0..<4 {
                    at[j * plane] = e.0[j]
                    at[(4 + j) * plane] = e.1[j]
                    at[(8 + j) * plane] = e.2[j]
                    at[(12 + j) * plane] = e.3[j]
                }
            }
        }
        return u
    }
}
