/// Convolution of a band of rows by kernel rows: for stride 1 with an output the size of the
/// input (3×3 with padding 1, 5×5 with padding 2), unfold only the kw horizontal shifts of the
/// band and its kh − 1 halo rows; kernel row ki is then one GEMM reading that block ki·W columns
/// further on. im2col writes C·kh·kw rows per output pixel, this C·kw (plus the halo), for the
/// same arithmetic: on resnet20 the unfolding was a sixth of a training step.
///
///     Y (O, rows·W) = Σ_ki  W_ki (O, C·kw) · block[:, ki·W ..< ki·W + rows·W]
enum RowShiftedConv {
    /// Whether a geometry takes this path: stride 1, square kernel, output the input's size.
    static func applies(_ g: Conv2dGeometry) -> Bool {
        g.stride == 1 && g.kernelHeight == g.kernelWidth && g.kernelHeight > 1
            && g.outHeight == g.height && g.outWidth == g.width
    }

    /// Rows of the unfolded block: C·kw.
    static func blockRows(_ g: Conv2dGeometry) -> Int { g.inChannels * g.kernelWidth }

    /// Columns of the block for a band of `rows` output rows: the band and its halo.
    static func blockColumns(_ g: Conv2dGeometry, rows: Int) -> Int { (rows + g.kernelHeight - 1) * g.width }

    /// Floats of the block for a band of `rows` output rows.
    static func blockSize(_ g: Conv2dGeometry, rows: Int) -> Int { blockRows(g) * blockColumns(g, rows: rows) }

    /// y (O, band; rows ldc apart) = Σ_ki W_ki · block shifted by ki rows (added to y when
    /// `accumulate`), unfolding the band of `image` into `block` first.
    static func convolve(_ image: UnsafePointer<Float>, _ g: Conv2dGeometry, rows: Range<Int>, weightRows: UnsafePointer<Float>,
                         block: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        let columns = blockColumns(g, rows: rows.count), inner = blockRows(g), o = g.outChannels
        unfold(image, g, rows: rows, into: block, rowStride: columns)
        for ki in 0..<g.kernelHeight {
            Gemm.multiply(m: o, n: rows.count * g.width, k: inner, a: weightRows + ki * o * inner, lda: inner,
                          b: block + ki * g.width, ldb: columns, beta: ki == 0 && !accumulate ? 0 : 1, c: y, ldc: ldc)
        }
    }

    /// dW_ki (O, C·kw) += g (O, band; `gStride` apart) · (block shifted by ki rows)ᵀ, into kh
    /// matrices laid out as `weightsByKernelRow`, unfolding the band of `image` into `block` first.
    static func addWeightGradient(_ grad: UnsafePointer<Float>, gStride: Int, _ image: UnsafePointer<Float>, _ g: Conv2dGeometry,
                                  rows: Range<Int>, block: UnsafeMutablePointer<Float>, into dwRows: UnsafeMutablePointer<Float>) {
        let columns = blockColumns(g, rows: rows.count), inner = blockRows(g), o = g.outChannels
        unfold(image, g, rows: rows, into: block, rowStride: columns)
        for ki in 0..<g.kernelHeight {
            Gemm.multiply(transposeB: true, m: o, n: inner, k: rows.count * g.width, a: grad, lda: gStride,
                          b: block + ki * g.width, ldb: columns, beta: 1, c: dwRows + ki * o * inner, ldc: inner)
        }
    }

    /// The weights (O, C, kh, kw) as kh matrices (O, C·kw): [ki][o][c·kw + kj] = W[o][c][ki][kj].
    static func weightsByKernelRow(_ w: UnsafePointer<Float>, _ g: Conv2dGeometry) -> Storage {
        let (o, c, kh, kw) = (g.outChannels, g.inChannels, g.kernelHeight, g.kernelWidth)
        let out = Storage(uninitializedCount: o * c * kh * kw)
        let dst = out.pointer
        for oc in 0..<o { for ic in 0..<c { for ki in 0..<kh { for kj in 0..<kw {
            dst[(ki * o + oc) * c * kw + ic * kw + kj] = w[((oc * c + ic) * kh + ki) * kw + kj]
        } } } }
        return out
    }

    /// Adds kh matrices (O, C·kw) laid out as `weightsByKernelRow` into a (O, C, kh, kw) gradient.
    static func addKernelRows(_ rows: UnsafePointer<Float>, _ g: Conv2dGeometry, into dw: UnsafeMutablePointer<Float>) {
        let (o, c, kh, kw) = (g.outChannels, g.inChannels, g.kernelHeight, g.kernelWidth)
        for oc in 0..<o { for ic in 0..<c { for ki in 0..<kh { for kj in 0..<kw {
            dw[((oc * c + ic) * kh + ki) * kw + kj] += rows[(ki * o + oc) * c * kw + ic * kw + kj]
        } } } }
    }

    /// image (C, H, W) -> block (C·kw, (rows + kh − 1)·W, rows rowStride apart): row (c, kj) holds
    /// input rows rows.lowerBound − pad ..< rows.upperBound − pad + kh − 1 shifted by kj − pad,
    /// zeros outside the image.
    static func unfold(_ image: UnsafePointer<Float>, _ g: Conv2dGeometry, rows: Range<Int>,
                       into block: UnsafeMutablePointer<Float>, rowStride: Int) {
        let (h, w, pad) = (g.height, g.width, g.padding)
        let planeSize = h * w
        let firstRow = rows.lowerBound - pad, rowCount = rows.count + g.kernelHeight - 1
        let blockSize = rowCount * w
        // Block rows that are image rows: [inLo, inHi) of the block's rowCount.
        let inLo = max(0, -firstRow), inHi = max(inLo, min(rowCount, h - firstRow))
        var row = block
        for c in 0..<g.inChannels {
            let plane = image + c * planeSize
            for kj in 0..<g.kernelWidth {
                let dx = kj - pad
                // Column j of the block reads plane[j + shift].
                Im2col.shiftedCopy(plane, planeSize: planeSize, shift: firstRow * w + dx, into: row,
                                   inside: inLo * w..<inHi * w, count: blockSize)
                // Columns whose input column falls outside [0, w) picked up a neighbour row's value.
                // Usually one column each side: a single store, not a memset call per row.
                if dx != 0 {
                    let (lo, hi) = g.validColumns(kj)
                    for r in inLo..<inHi {
                        let line = row + r * w
                        if lo == 1 { line[0] = 0 } else { for ow in 0..<lo { line[ow] = 0 } }
                        if hi == w - 1 { line[hi] = 0 } else { for ow in hi..<w { line[ow] = 0 } }
                    }
                }
                row += rowStride
            }
        }
    }
}
