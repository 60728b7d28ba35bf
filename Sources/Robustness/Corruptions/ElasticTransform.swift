import Foundation
import TensorEngine

/// ImageNet-C's elastic transform (CIFAR-10-C's version, after Simard et al. 2003): a random
/// affine warp, then a smooth random displacement field.
///
/// 1. Three anchor points around the centre, (c+s, c+s), (c+s, c−s), (c−s, c−s) with c = ⌊n/2⌋ and
///    s = ⌊n/3⌋ for the side n, each moved by U(−a, a) per coordinate; the affine that maps the
///    anchors to the moved points warps the image (bilinear, reflect-101 outside, as OpenCV's
///    warpAffine with BORDER_REFLECT_101).
/// 2. dx, dy: U(−1, 1) per pixel, smoothed by a Gaussian of σ (truncate 3, scipy `reflect`),
///    times alpha; output (y, x) samples the warped image at (y + dy, x + dx) (bilinear, `reflect`,
///    as scipy's map_coordinates).
///
/// Exact where OpenCV rounds: warpAffine quantises sample positions to 1/32 pixel, this does not.
enum ElasticTransform {
    struct Draws {
        /// The anchors' shifts, (x, y) per anchor, in U(−a, a).
        var affine: [Double]
        /// U(−1, 1) fields for dx and dy, (H, W) each; empty when alpha is 0.
        var dx: [Double], dy: [Double]
    }

    static func draw(height: Int, width: Int, affine: Double, withField: Bool, _ generator: inout RandomGenerator) -> Draws {
        func uniform(_ bound: Double) -> Double { (2 * PoissonSampler.uniform(&generator) - 1) * bound }
        let shifts = (0..<6).map { _ in uniform(affine) }
        let count = withField ? height * width : 0
        let dx = (0..<count).map { _ in uniform(1) }
        let dy = (0..<count).map { _ in uniform(1) }
        return Draws(affine: shifts, dx: dx, dy: dy)
    }

    /// The severity's parameters are fractions of the image side (CIFAR-10-C's, for 32 pixels).
    static func apply(_ image: inout CorruptionImage, alpha: Double, sigma: Double, affine: Double, _ generator: inout RandomGenerator) {
        let side = Double(min(image.height, image.width))
        let draws = draw(height: image.height, width: image.width, affine: affine * side, withField: alpha > 0, &generator)
        apply(&image, alpha: alpha * side, sigma: sigma * side, draws: draws)
    }

    /// The deterministic part, given the draws (the reference comparison feeds it the same ones).
    static func apply(_ image: inout CorruptionImage, alpha: Double, sigma: Double, draws: Draws) {
        let (h, w) = (image.height, image.width)
        // cv2 points are (x, y); ImageNet-C builds them from (h, w) // 2, equal for square images.
        let (cx, cy) = (Double(h / 2), Double(w / 2))
        let s = Double(min(h, w) / 3)
        let anchors = [(cx + s, cy + s), (cx + s, cy - s), (cx - s, cy - s)]
        let moved = anchors.enumerated().map { k, p in (p.0 + draws.affine[2 * k], p.1 + draws.affine[2 * k + 1]) }
        // The inverse map: for each output point, where it comes from in the input.
        let inverse = affineMap(from: moved, to: anchors)
        image.forEachPlane { plane in
            var warped = [Float](repeating: 0, count: plane.count)
            for y in 0..<h {
                for x in 0..<w {
                    let (sx, sy) = (inverse[0] * Double(x) + inverse[1] * Double(y) + inverse[2],
                                    inverse[3] * Double(x) + inverse[4] * Double(y) + inverse[5])
                    warped[y * w + x] = Float(ImageFilter.bilinear(plane, height: h, width: w, y: sy, x: sx, boundary: .mirror))
                }
            }
            plane = warped
        }
        guard alpha > 0, !draws.dx.isEmpty else { return image.clip() }
        let kernel = ImageFilter.gaussianKernel(sigma: sigma, truncate: 3)
        let dx = ImageFilter.separable(draws.dx.map(Float.init), height: h, width: w, kernel: kernel, boundary: .reflect).map { Double($0) * alpha }
        let dy = ImageFilter.separable(draws.dy.map(Float.init), height: h, width: w, kernel: kernel, boundary: .reflect).map { Double($0) * alpha }
        image.forEachPlane { plane in
            var out = [Float](repeating: 0, count: plane.count)
            for y in 0..<h {
                for x in 0..<w {
                    let i = y * w + x
                    out[i] = Float(ImageFilter.bilinear(plane, height: h, width: w, y: Double(y) + dy[i], x: Double(x) + dx[i], boundary: .reflect))
                }
            }
            plane = out
        }
        image.clip()
    }

    /// The affine (a, b, c, d, e, f) with (x', y') = (a·x + b·y + c, d·x + e·y + f) through three
    /// point pairs (OpenCV's getAffineTransform), by Cramer's rule.
    static func affineMap(from source: [(Double, Double)], to target: [(Double, Double)]) -> [Double] {
        let (x0, y0) = source[0], (x1, y1) = source[1], (x2, y2) = source[2]
        let det = x0 * (y1 - y2) - y0 * (x1 - x2) + (x1 * y2 - x2 * y1)
        func solve(_ v0: Double, _ v1: Double, _ v2: Double) -> (Double, Double, Double) {
            let a = (v0 * (y1 - y2) - y0 * (v1 - v2) + (v1 * y2 - v2 * y1)) / det
            let b = (x0 * (v1 - v2) - v0 * (x1 - x2) + (x1 * v2 - x2 * v1)) / det
            let c = (x0 * (y1 * v2 - y2 * v1) - y0 * (x1 * v2 - x2 * v1) + v0 * (x1 * y2 - x2 * y1)) / det
            return (a, b, c)
        }
        let (a, b, c) = solve(target[0].0, target[1].0, target[2].0)
        let (d, e, f) = solve(target[0].1, target[1].1, target[2].1)
        return [a, b, c, d, e, f]
    }
}
