/// One GEMM's worth of a convolution's output columns: `count` whole images from `first`, or,
/// for a large feature map, a band of output rows of a single image.
struct ColumnTile {
    let first: Int
    let count: Int
    /// Output rows covered (all of them when the tile holds several images).
    let rows: Range<Int>
    /// Output pixels per row.
    let width: Int

    /// Columns each image of the tile contributes.
    var pixelsPerImage: Int { rows.count * width }
    var columns: Int { count * pixelsPerImage }
    /// Where the band starts inside one image's output plane.
    var pixelOffset: Int { rows.lowerBound * width }
}

/// Splits a thread's images into tiles of about `targetColumns` output columns: small feature
/// maps are unfolded side by side so one GEMM covers several images, large ones are cut into
/// bands of rows. Either way the unfolded block (patch size × columns) stays in L2 between
/// being written and being packed by the GEMM; measured on resnet20's layers, 256 columns
/// beat 1024 by about 10% for the 16×16 and 8×8 maps.
struct ColumnTiles: Sequence {
    /// Tests lower it to exercise bands and groups on small images.
    nonisolated(unsafe) static var targetColumns = 256

    let images: Range<Int>
    let rows: Int, width: Int
    /// Images per tile (1 when bands are cut).
    let maxImages: Int
    /// Output rows per tile (all rows unless bands are cut).
    let bandRows: Int

    init(_ images: Range<Int>, rows: Int, width: Int) {
        (self.images, self.rows, self.width) = (images, rows, width)
        let pixels = Swift.max(rows * width, 1), target = Swift.max(Self.targetColumns, 1)
        if pixels >= target {
            maxImages = 1
            bandRows = Swift.max(1, Swift.min(rows, target / Swift.max(width, 1)))
        } else {
            maxImages = Swift.max(1, Swift.min(images.count, (target + pixels - 1) / pixels))
            bandRows = rows
        }
    }

    /// The widest tile: size scratch buffers by it.
    var maxColumns: Int { maxImages * bandRows * width }

    /// Whether the convolutions' chunks of a batch (`Parallel.forEachChunk` with
    /// `Conv2d.piecesPerThread`) tile into any single-image tile: a band of a large map, or the
    /// last image of a chunk left over. Only those take the row-shifted path.
    static func someTileIsOneImage(_ batch: Int, rows: Int, width: Int) -> Bool {
        let chunks = Parallel.chunkCount(batch, piecesPerThread: Conv2d.piecesPerThread)
        return (0..<chunks).contains { w in
            let images = batch * w / chunks ..< batch * (w + 1) / chunks
            let tiles = ColumnTiles(images, rows: rows, width: width)
            return !images.isEmpty && (tiles.maxImages == 1 || images.count % tiles.maxImages == 1)
        }
    }

    func makeIterator() -> AnyIterator<ColumnTile> {
        var image = images.lowerBound, row = 0
        return AnyIterator {
            guard image < images.upperBound else { return nil }
            if bandRows == rows {
                let count = Swift.min(maxImages, images.upperBound - image)
                defer { image += count }
                return ColumnTile(first: image, count: count, rows: 0..<rows, width: width)
            }
            let end = Swift.min(rows, row + bandRows)
            defer {
                row = end
                if row == rows { row = 0; image += 1 }
            }
            return ColumnTile(first: image, count: 1, rows: row..<end, width: width)
        }
    }
}

/// Moving between image-major NCHW blocks and one (rows, images·pixels) matrix.
enum Layout {
    // (images, rows, pixels) -> (rows, images·pixels)
    static func gather(_ src: UnsafePointer<Float>, rows: Int, pixels: Int, images: Int, into dst: UnsafeMutablePointer<Float>) {
        let width = images * pixels
        for i in 0..<images {
            for r in 0..<rows { (dst + r * width + i * pixels).update(from: src + (i * rows + r) * pixels, count: pixels) }
        }
    }

    // (rows, images·pixels) -> (images, rows, pixels)
    static func scatter(_ src: UnsafePointer<Float>, rows: Int, pixels: Int, images: Int,
                        into dst: UnsafeMutablePointer<Float>) {
        let width = images * pixels
        for i in 0..<images {
            for r in 0..<rows { (dst + (i * rows + r) * pixels).update(from: src + r * width + i * pixels, count: pixels) }
        }
    }
}

/// Unfolding an image into patch columns and folding columns back (the adjoint, which adds),
/// for a band of output rows: column (oh − rows.lowerBound)·Wo + ow holds output pixel (oh, ow).
enum Im2col {
    /// col (C·kh·kw, tile.columns): image i of the tile in columns [i·P', (i+1)·P'), from the batch `x`.
    static func unfold(_ tile: ColumnTile, of x: UnsafePointer<Float>, _ g: Conv2dGeometry, into col: UnsafeMutablePointer<Float>) {
        let inStride = g.inChannels * g.height * g.width
        for i in 0..<tile.count {
            unfold(x + (tile.first + i) * inStride, g, rows: tile.rows, into: col + i * tile.pixelsPerImage, rowStride: tile.columns)
        }
    }

    // image (C, H, W) -> col (C·kh·kw, rows·Wo, rows rowStride apart), zeros where the patch reaches into the padding
    static func unfold(_ image: UnsafePointer<Float>, _ g: Conv2dGeometry, rows: Range<Int>,
                       into col: UnsafeMutablePointer<Float>, rowStride: Int) {
        if g.stride == 1 && g.outWidth == g.width {
            unfoldSameWidth(image, g, rows: rows, into: col, rowStride: rowStride)
            return
        }
        let (h, w, wo, s, pad) = (g.height, g.width, g.outWidth, g.stride, g.padding)
        var row = col
        for c in 0..<g.inChannels {
            let plane = image + c * h * w
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let (owLo, owHi) = g.validColumns(kj)
                    for oh in rows {
                        let ih = oh * s - pad + ki
                        let dst = row + (oh - rows.lowerBound) * wo
                        if ih < 0 || ih >= h {
                            for ow in 0..<wo { dst[ow] = 0 }
                            continue
                        }
                        let src = plane + ih * w
                        for ow in 0..<owLo { dst[ow] = 0 }
                        for ow in owLo..<owHi { dst[ow] = src[ow * s - pad + kj] }
                        for ow in owHi..<wo { dst[ow] = 0 }
                    }
                    row += rowStride
                }
            }
        }
    }

    // Stride 1 with Wo = W (3×3 with padding 1, the common case): each row of col is the band of
    // the plane shifted by (ki − pad, kj − pad), so it is one block copy plus zeroed borders.
    private static func unfoldSameWidth(_ image: UnsafePointer<Float>, _ g: Conv2dGeometry, rows: Range<Int>,
                                        into col: UnsafeMutablePointer<Float>, rowStride: Int) {
        let (h, w, pad) = (g.height, g.width, g.padding)
        let planeSize = h * w, bandSize = rows.count * w
        var row = col
        for c in 0..<g.inChannels {
            let plane = image + c * planeSize
            for ki in 0..<g.kernelHeight {
                let dy = ki - pad
                // Output rows of the band whose input row oh + dy is inside the image.
                let ohLo = max(rows.lowerBound, -dy), ohHi = max(ohLo, min(rows.upperBound, h - dy))
                for kj in 0..<g.kernelWidth {
                    let dx = kj - pad
                    // Column j of this row reads plane[j + shift].
                    let shift = (rows.lowerBound + dy) * w + dx
                    shiftedCopy(plane, planeSize: planeSize, shift: shift, into: row,
                                inside: (ohLo - rows.lowerBound) * w..<(ohHi - rows.lowerBound) * w, count: bandSize)
                    // Columns whose input column falls outside [0, w) picked up a neighbour row's value.
                    // Usually one column each side: a single store, not a memset call per row.
                    if dx != 0 {
                        let (lo, hi) = g.validColumns(kj)
                        for oh in ohLo..<ohHi {
                            let r = row + (oh - rows.lowerBound) * w
                            if lo == 1 { r[0] = 0 } else { for ow in 0..<lo { r[ow] = 0 } }
                            if hi == w - 1 { r[hi] = 0 } else { for ow in hi..<w { r[ow] = 0 } }
                        }
                    }
                    row += rowStride
                }
            }
        }
    }

    /// row[j] = plane[j + shift] for j in `inside` (clipped to the plane), 0 for the rest of [0, count).
    /// One contiguous copy: callers then zero the columns that wrapped around a row's edge.
    @inline(__always)
    static func shiftedCopy(_ plane: UnsafePointer<Float>, planeSize: Int, shift: Int,
                            into row: UnsafeMutablePointer<Float>, inside: Range<Int>, count: Int) {
        let (first, last) = (inside.lowerBound, inside.upperBound)
        let srcFirst = max(first + shift, 0), srcLast = min(last + shift, planeSize)
        for i in 0..<first { row[i] = 0 }
        if srcLast > srcFirst {
            let dstFirst = srcFirst - shift
            let dst = row + dstFirst, src = plane + srcFirst
            for i in 0..<(srcLast - srcFirst) { dst[i] = src[i] }
            for i in first..<dstFirst { row[i] = 0 }
            for i in (dstFirst + srcLast - srcFirst)..<last { row[i] = 0 }
        } else {
            for i in first..<last { row[i] = 0 }
        }
        for i in last..<count { row[i] = 0 }
    }

    // col (C·kh·kw, rows·Wo, rows rowStride apart) -> image (C, H, W), adding overlapping patches
    static func fold(_ col: UnsafePointer<Float>, _ g: Conv2dGeometry, rows: Range<Int>, rowStride: Int,
                     into image: UnsafeMutablePointer<Float>) {
        let (h, w, wo, s, pad) = (g.height, g.width, g.outWidth, g.stride, g.padding)
        var row = col
        for c in 0..<g.inChannels {
            let plane = image + c * h * w
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let (owLo, owHi) = g.validColumns(kj)
                    for oh in rows {
                        let ih = oh * s - pad + ki
                        if ih < 0 || ih >= h { continue }
                        let src = row + (oh - rows.lowerBound) * wo
                        let dst = plane + ih * w
                        if s == 1 {
                            let base = dst + (-pad + kj)
                            for ow in owLo..<owHi { base[ow] += src[ow] }
                        } else {
                            for ow in owLo..<owHi { dst[ow * s - pad + kj] += src[ow] }
                        }
                    }
                    row += rowStride
                }
            }
        }
    }
}
