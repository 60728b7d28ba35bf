import Foundation

/// How a filter reads outside the image. The reference implementations differ per corruption
/// (scipy's default for skimage's Gaussian is `nearest`, OpenCV's filters use reflect-101, the
/// elastic transform's field uses scipy's `reflect`), and a boundary that differs changes the
/// border pixels, so each corruption names the one its reference uses.
enum ImageBoundary {
    /// aaa|abcd|ddd (scipy `nearest`, ImageMagick's edge virtual pixels).
    case nearest
    /// ba|abcd|dc, the edge repeated once (scipy `reflect`, half-sample symmetric).
    case reflect
    /// cb|abcd|cb, the edge not repeated (scipy `mirror`, OpenCV's BORDER_REFLECT_101).
    case mirror

    /// The index inside 0..<n that index i reads.
    func index(_ i: Int, _ n: Int) -> Int {
        if i >= 0 && i < n { return i }
        switch self {
        case .nearest: return i < 0 ? 0 : n - 1
        case .reflect:
            let period = 2 * n
            var j = i % period
            if j < 0 { j += period }
            return j < n ? j : period - 1 - j
        case .mirror:
            if n == 1 { return 0 }
            let period = 2 * (n - 1)
            var j = i % period
            if j < 0 { j += period }
            return j < n ? j : period - j
        }
    }
}

/// The linear filters the corruptions share, on one (H, W) plane.
enum ImageFilter {
    /// scipy.ndimage's Gaussian kernel: radius ⌊truncate·σ + 0.5⌋, weights exp(−x²/2σ²) normalised.
    static func gaussianKernel(sigma: Double, truncate: Double) -> [Double] {
        guard sigma > 0 else { return [1] }
        let radius = Int(truncate * sigma + 0.5)
        let weights = (-radius...radius).map { x in exp(-0.5 * Double(x * x) / (sigma * sigma)) }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }

    /// Correlates rows, then columns, with a centred 1-D kernel (scipy's gaussian_filter order).
    static func separable(_ plane: [Float], height: Int, width: Int, kernel: [Double], boundary: ImageBoundary) -> [Float] {
        let radius = kernel.count / 2
        var rows = [Float](repeating: 0, count: plane.count)
        // Axis 0 (down the columns) first, as scipy filters axis by axis in order.
        for y in 0..<height {
            for x in 0..<width {
                var sum = 0.0
                for k in 0..<kernel.count { sum += kernel[k] * Double(plane[boundary.index(y + k - radius, height) * width + x]) }
                rows[y * width + x] = Float(sum)
            }
        }
        var out = [Float](repeating: 0, count: plane.count)
        for y in 0..<height {
            for x in 0..<width {
                var sum = 0.0
                for k in 0..<kernel.count { sum += kernel[k] * Double(rows[y * width + boundary.index(x + k - radius, width)]) }
                out[y * width + x] = Float(sum)
            }
        }
        return out
    }

    /// 2-D correlation with a centred (kh, kw) kernel, as OpenCV's filter2D. Only the nonzero taps
    /// are visited: a defocus disk fills a few of its 17×17 grid.
    static func correlate(_ plane: [Float], height: Int, width: Int, kernel: [Double], kernelHeight: Int, kernelWidth: Int,
                          boundary: ImageBoundary) -> [Float] {
        let (ry, rx) = (kernelHeight / 2, kernelWidth / 2)
        var taps: [(dy: Int, dx: Int, weight: Double)] = []
        for ky in 0..<kernelHeight {
            for kx in 0..<kernelWidth where kernel[ky * kernelWidth + kx] != 0 { taps.append((ky - ry, kx - rx, kernel[ky * kernelWidth + kx])) }
        }
        var out = [Float](repeating: 0, count: plane.count)
        for y in 0..<height {
            for x in 0..<width {
                var sum = 0.0
                for tap in taps {
                    sum += tap.weight * Double(plane[boundary.index(y + tap.dy, height) * width + boundary.index(x + tap.dx, width)])
                }
                out[y * width + x] = Float(sum)
            }
        }
        return out
    }

    /// Bilinear sample of a plane at (row, column) `(y, x)`, neighbours read through `boundary`.
    @inline(__always)
    static func bilinear(_ plane: [Float], height: Int, width: Int, y: Double, x: Double, boundary: ImageBoundary) -> Double {
        let (y0, x0) = (Int(y.rounded(.down)), Int(x.rounded(.down)))
        let (ty, tx) = (y - Double(y0), x - Double(x0))
        let (r0, r1) = (boundary.index(y0, height) * width, boundary.index(y0 + 1, height) * width)
        let (c0, c1) = (boundary.index(x0, width), boundary.index(x0 + 1, width))
        let top = (1 - tx) * Double(plane[r0 + c0]) + tx * Double(plane[r0 + c1])
        let bottom = (1 - tx) * Double(plane[r1 + c0]) + tx * Double(plane[r1 + c1])
        return (1 - ty) * top + ty * bottom
    }
}
