import Foundation

/// A 2-D discrete Fourier transform of small images, done separably (rows, then columns) with
/// precomputed twiddles: O(H·W·(H+W)) per image, which for 28×28 or 32×32 is cheaper and simpler
/// than a mixed-radix FFT (28 is not a power of two).
public struct DiscreteFourierTransform2D {
    public let height: Int, width: Int
    private let cosH: [Double], sinH: [Double], cosW: [Double], sinW: [Double]

    public init(height: Int, width: Int) {
        (self.height, self.width) = (height, width)
        func table(_ n: Int, _ f: (Double) -> Double) -> [Double] { (0..<n * n).map { f(2 * Double.pi * Double(($0 / n) * ($0 % n) % n) / Double(n)) } }
        (cosH, sinH) = (table(height, cos), table(height, sin))
        (cosW, sinW) = (table(width, cos), table(width, sin))
    }

    /// In place on (re, im) of H×W: forward uses e^{−2πi·kn/N}; inverse e^{+…} and divides by H·W.
    public func transform(_ re: inout [Double], _ im: inout [Double], inverse: Bool) {
        let sign: Double = inverse ? 1 : -1
        var rowRe = [Double](repeating: 0, count: max(height, width)), rowIm = rowRe
        for y in 0..<height {  // along each row
            for k in 0..<width {
                var sr = 0.0, si = 0.0
                for n in 0..<width {
                    let c = cosW[k * width + n], s = sign * sinW[k * width + n]
                    let a = re[y * width + n], b = im[y * width + n]
                    sr += a * c - b * s
                    si += a * s + b * c
                }
                (rowRe[k], rowIm[k]) = (sr, si)
            }
            for k in 0..<width { (re[y * width + k], im[y * width + k]) = (rowRe[k], rowIm[k]) }
        }
        for x in 0..<width {  // along each column
            for k in 0..<height {
                var sr = 0.0, si = 0.0
                for n in 0..<height {
                    let c = cosH[k * height + n], s = sign * sinH[k * height + n]
                    let a = re[n * width + x], b = im[n * width + x]
                    sr += a * c - b * s
                    si += a * s + b * c
                }
                (rowRe[k], rowIm[k]) = (sr, si)
            }
            for k in 0..<height { (re[k * width + x], im[k * width + x]) = (rowRe[k], rowIm[k]) }
        }
        if inverse {
            let scale = 1 / Double(height * width)
            for i in 0..<re.count { re[i] *= scale; im[i] *= scale }
        }
    }

    /// Distance of frequency (ky, kx) from the zero frequency, with indices above N/2 read as negative.
    public func radius(_ ky: Int, _ kx: Int) -> Double {
        let fy = Double(ky <= height / 2 ? ky : ky - height), fx = Double(kx <= width / 2 ? kx : kx - width)
        return (fy * fy + fx * fx).squareRoot()
    }

    /// The largest integer radius bin (the corner frequency).
    public var maximumRadiusBin: Int { Int(radius(height / 2, width / 2).rounded()) }
}
