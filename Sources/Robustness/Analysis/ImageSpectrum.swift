import TensorEngine

/// The 2-D DFT of every plane (image × channel) of a batch, taken once and then filtered at as
/// many radii as the frequency analysis asks for: each filter costs one inverse transform per
/// plane instead of a forward and an inverse one.
public struct ImageSpectrum {
    private let shape: [Int]
    private let dft: DiscreteFourierTransform2D
    /// Plane after plane, row-major: the real and imaginary parts.
    private var re: [Double], im: [Double]

    public init(_ images: Tensor) {
        shape = images.shape
        let (h, w) = (shape[2], shape[3])
        dft = DiscreteFourierTransform2D(height: h, width: w)
        re = [Double](repeating: 0, count: images.count)
        im = re
        var planeRe = [Double](repeating: 0, count: h * w), planeIm = planeRe
        for plane in 0..<images.count / (h * w) {
            let src = images.pointer + plane * h * w
            for i in 0..<h * w { (planeRe[i], planeIm[i]) = (Double(src[i]), 0) }
            dft.transform(&planeRe, &planeIm, inverse: false)
            re.replaceSubrange(plane * h * w..<(plane + 1) * h * w, with: planeRe)
            im.replaceSubrange(plane * h * w..<(plane + 1) * h * w, with: planeIm)
        }
    }

    /// The images keeping only frequencies with radius ≤ `radius` (low) or > `radius` (high):
    /// the real part of the inverse transform, not clipped (a high-pass image is centred on 0).
    public func filtered(radius: Double, pass: FrequencyAnalysis.Pass) -> Tensor {
        let (h, w) = (shape[2], shape[3])
        let out = Tensor(zeros: shape)
        var planeRe = [Double](repeating: 0, count: h * w), planeIm = planeRe
        for plane in 0..<re.count / (h * w) {
            let base = plane * h * w
            for ky in 0..<h {
                for kx in 0..<w {
                    let i = ky * w + kx
                    let kept = (dft.radius(ky, kx) <= radius) == (pass == .low)
                    (planeRe[i], planeIm[i]) = kept ? (re[base + i], im[base + i]) : (0, 0)
                }
            }
            dft.transform(&planeRe, &planeIm, inverse: true)
            let dst = out.pointer + base
            for i in 0..<h * w { dst[i] = Float(planeRe[i]) }
        }
        return out
    }
}
