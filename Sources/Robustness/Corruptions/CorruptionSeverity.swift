import Foundation

/// The severity parameters of each corruption: CIFAR-10-C's (Hendrycks & Dietterich's
/// make_cifar_c.py), because they were chosen for 32×32 images and the datasets here are 28×28 and
/// 32×32; ImageNet-C's were chosen for 224×224 (its blur kernels and elastic displacements would
/// wipe out a 28×28 digit at severity 1). The table in docs/ROBUSTNESS.md lists the same values.
enum CorruptionSeverity {
    /// Standard deviation of the additive noise in pixel units.
    static let gaussianNoise: [Float] = [0.04, 0.06, 0.08, 0.09, 0.10]
    /// Photons per unit intensity: x ↦ Poisson(λ·x)/λ (fewer photons, more noise).
    static let shotNoise: [Double] = [500, 250, 100, 75, 50]
    /// Fraction of values replaced by 0 or 1 (half each).
    static let impulseNoise: [Float] = [0.01, 0.02, 0.03, 0.05, 0.07]
    /// Standard deviation of the multiplicative noise: x ↦ x + x·N(0, c²).
    static let speckleNoise: [Float] = [0.06, 0.1, 0.12, 0.16, 0.2]
    /// σ of the Gaussian kernel in pixels.
    static let gaussianBlur: [Double] = [0.4, 0.6, 0.7, 0.8, 1]
    /// (disk radius, σ of the 3×3 Gaussian that anti-aliases the disk).
    static let defocusBlur: [(radius: Double, aliasBlur: Double)] = [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)]
    /// ImageMagick's (radius, σ); the angle is drawn uniformly in [−45°, 45°).
    static let motionBlur: [(radius: Double, sigma: Double)] = [(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)]
    /// np.arange(1, stop, 0.01): the zoom factors averaged with the image.
    static let zoomBlurStops: [Double] = [1.06, 1.11, 1.16, 1.21, 1.26]
    /// Factor on the distance of each value from its channel's mean.
    static let contrast: [Float] = [0.75, 0.5, 0.4, 0.3, 0.15]
    /// Added to HSV value.
    static let brightness: [Double] = [0.05, 0.1, 0.15, 0.2, 0.3]
    /// HSV saturation ↦ s·factor + shift. Severities 1-2 desaturate, 3-5 saturate.
    static let saturate: [(factor: Double, shift: Double)] = [(0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)]
    /// libjpeg quality.
    static let jpegQuality: [Int] = [80, 65, 58, 50, 40]
    /// Side of the reduced image as a fraction of the original (PIL box filter down, then up).
    static let pixelate: [Double] = [0.95, 0.9, 0.85, 0.75, 0.65]
    /// (alpha, sigma, affine) as fractions of the image side: the displacement field's scale and
    /// smoothness, and the largest shift of the random affine's anchor points.
    static let elasticTransform: [(alpha: Double, sigma: Double, affine: Double)] = [
        (0, 0, 0.08), (0.05, 0.2, 0.07), (0.08, 0.06, 0.06), (0.1, 0.04, 0.05), (0.1, 0.03, 0.03),
    ]

    /// The zoom factors of one severity exactly as np.arange(1, stop, 0.01) yields them: its count
    /// is ceil((stop − 1)/0.01) in binary floating point, so 1.06 is included (7 factors, not 6),
    /// and value i is 1 + i·((1 + 0.01) − 1), NumPy's fill from its first two values. The last
    /// digit matters: 26 × 1.2500000000000002 rounds to 33 pixels, 26 × 1.25 to 32.
    static func zoomFactors(severity: Int) -> [Double] {
        let stop = zoomBlurStops[severity - 1]
        let count = Int(((stop - 1) / 0.01).rounded(.up))
        let delta = (1 + 0.01) - 1.0
        return (0..<count).map { 1 + Double($0) * delta }
    }
}
