import Foundation
import TensorEngine

/// ImageNet-C's blurs, each per channel with the boundary of the implementation Hendrycks &
/// Dietterich called (skimage, OpenCV, ImageMagick, scipy), so border pixels agree with it too.
enum BlurCorruptions {
    /// skimage.filters.gaussian: scipy's Gaussian (truncate 4) along rows then columns, edges repeated.
    static func gaussian(_ image: inout CorruptionImage, sigma: Double) {
        let kernel = ImageFilter.gaussianKernel(sigma: sigma, truncate: 4)
        let (h, w) = (image.height, image.width)
        image.forEachPlane { $0 = ImageFilter.separable($0, height: h, width: w, kernel: kernel, boundary: .nearest) }
        image.clip()
    }

    /// A lens out of focus: correlation with an anti-aliased disk (OpenCV filter2D, reflect-101).
    static func defocus(_ image: inout CorruptionImage, radius: Double, aliasBlur: Double) {
        let (kernel, side) = defocusKernel(radius: radius, aliasBlur: aliasBlur)
        let (h, w) = (image.height, image.width)
        image.forEachPlane {
            $0 = ImageFilter.correlate($0, height: h, width: w, kernel: kernel, kernelHeight: side, kernelWidth: side, boundary: .mirror)
        }
        image.clip()
    }

    /// ImageNet-C's `disk`: the pixels within `radius` of the centre of a 17×17 grid (radius ≤ 8),
    /// normalised to sum 1, then smoothed by OpenCV's 3×3 GaussianBlur with σ `aliasBlur`
    /// (reflect-101 at the grid's edge; the grid is larger than the disk, so it never matters).
    static func defocusKernel(radius: Double, aliasBlur: Double) -> (kernel: [Double], side: Int) {
        let half = radius <= 8 ? 8 : Int(radius)
        let blurSide = radius <= 8 ? 3 : 5
        let side = 2 * half + 1
        var disk = [Double](repeating: 0, count: side * side)
        for y in -half...half {
            for x in -half...half where Double(x * x + y * y) <= radius * radius { disk[(y + half) * side + x + half] = 1 }
        }
        let total = disk.reduce(0, +)
        disk = disk.map { $0 / total }
        // cv2.getGaussianKernel(n, σ) for σ > 0: exp(−i²/2σ²) over the n taps, normalised.
        let r = blurSide / 2
        var taps = (-r...r).map { i in exp(-Double(i * i) / (2 * aliasBlur * aliasBlur)) }
        let tapTotal = taps.reduce(0, +)
        taps = taps.map { $0 / tapTotal }
        let blurred = ImageFilter.separable(disk.map(Float.init), height: side, width: side, kernel: taps, boundary: .mirror)
        return (blurred.map(Double.init), side)
    }

    /// ImageMagick's MotionBlurImage, written from its source: a one-sided Gaussian of
    /// width = 2⌈radius⌉ + 1 taps, kernel[i] ∝ exp(−i²/2σ²), tap i read at
    /// (x + ⌈i·cos θ − ½⌉, y + ⌈i·sin θ − ½⌉), edge pixels repeated outside the image. So the image
    /// is smeared towards one side along θ, the trail fading.
    static func motion(_ image: inout CorruptionImage, radius: Double, sigma: Double, angleDegrees: Double) {
        let width = Int(2 * radius.rounded(.up) + 1)
        var kernel = (0..<width).map { i in exp(-Double(i * i) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        let angle = angleDegrees * Double.pi / 180
        // ImageMagick's point = width·(sin θ, cos θ), divided by its length again: the unit direction.
        let (px, py) = (Double(width) * sin(angle), Double(width) * cos(angle))
        let length = (px * px + py * py).squareRoot()
        let offsets = (0..<width).map { i in
            (x: Int((Double(i) * py / length - 0.5).rounded(.up)), y: Int((Double(i) * px / length - 0.5).rounded(.up)))
        }
        let (h, w) = (image.height, image.width)
        image.forEachPlane { plane in
            var out = [Float](repeating: 0, count: plane.count)
            for y in 0..<h {
                for x in 0..<w {
                    var sum = 0.0
                    for (k, offset) in offsets.enumerated() {
                        sum += kernel[k] * Double(plane[ImageBoundary.nearest.index(y + offset.y, h) * w + ImageBoundary.nearest.index(x + offset.x, w)])
                    }
                    out[y * w + x] = Float(sum)
                }
            }
            plane = out
        }
        image.clip()
    }

    /// The mean of the image and its centre zoomed by each factor (a camera moving towards the
    /// scene during the exposure).
    static func zoom(_ image: inout CorruptionImage, factors: [Double]) {
        let (h, w) = (image.height, image.width)
        image.forEachPlane { plane in
            var sum = plane.map(Double.init)
            for factor in factors {
                let zoomed = clippedZoom(plane, height: h, width: w, factor: factor)
                for i in sum.indices { sum[i] += Double(zoomed[i]) }
            }
            plane = sum.map { Float($0 / Double(factors.count + 1)) }
        }
        image.clip()
    }

    /// ImageNet-C's clipped_zoom: the centre ⌈n/z⌉ pixels of each axis scaled by z with
    /// scipy.ndimage.zoom (order 1: output i samples input i·(in − 1)/(out − 1), out = round(in·z),
    /// half to even as Python rounds), then the centre n pixels of the result.
    static func clippedZoom(_ plane: [Float], height: Int, width: Int, factor: Double) -> [Float] {
        func axis(_ n: Int) -> (crop: Int, start: Int, zoomed: Int, trim: Int) {
            let crop = Int((Double(n) / factor).rounded(.up))
            let zoomed = Int((Double(crop) * factor).rounded(.toNearestOrEven))
            return (crop, (n - crop) / 2, zoomed, (zoomed - n) / 2)
        }
        let (ay, ax) = (axis(height), axis(width))
        func source(_ i: Int, _ a: (crop: Int, start: Int, zoomed: Int, trim: Int)) -> Double {
            let position = a.zoomed > 1 ? Double(i + a.trim) * (Double(a.crop - 1) / Double(a.zoomed - 1)) : 0
            return Double(a.start) + position
        }
        var out = [Float](repeating: 0, count: plane.count)
        for y in 0..<height {
            let sy = source(y, ay)
            for x in 0..<width {
                // Inside the crop by construction; `nearest` only guards the last sample's right neighbour.
                out[y * width + x] = Float(ImageFilter.bilinear(plane, height: height, width: width, y: sy, x: source(x, ax), boundary: .nearest))
            }
        }
        return out
    }
}
