import XCTest
@testable import TensorEngine

/// Bilinear resize and zero padding (input diversity's ops): values against closed forms and
/// PyTorch's documented output, gradients against finite differences.
final class ResamplingTests: XCTestCase {
    /// torch.nn.functional.interpolate([[1, 2], [3, 4]], size=4, mode="bilinear", align_corners=False).
    func testUpsamplingMatchesPyTorchsHalfPixelCentres() throws {
        let x = try Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4])
        let y = try x.resizedBilinear(height: 4, width: 4)
        let want: [Float] = [1.0, 1.25, 1.75, 2.0,
                             1.5, 1.75, 2.25, 2.5,
                             2.5, 2.75, 3.25, 3.5,
                             3.0, 3.25, 3.75, 4.0]
        XCTAssertEqual(y.shape, [1, 1, 4, 4])
        for i in 0..<16 { XCTAssertEqual(y.pointer[i], want[i], accuracy: 1e-6) }
    }

    /// Halving a side averages pairs of pixels (source positions 2o + 0.5); the same size is the identity.
    func testDownsamplingByTwoAveragesPairsAndTheSameSizeIsTheIdentity() throws {
        let x = parameter([2, 3, 6, 8], seed: 1)
        let half = try x.resizedBilinear(height: 3, width: 4)
        for plane in 0..<6 {
            for i in 0..<3 {
                for j in 0..<4 {
                    let s = x.pointer + plane * 48
                    let mean = (s[(2 * i) * 8 + 2 * j] + s[(2 * i) * 8 + 2 * j + 1] + s[(2 * i + 1) * 8 + 2 * j] + s[(2 * i + 1) * 8 + 2 * j + 1]) / 4
                    XCTAssertEqual(half.pointer[plane * 12 + i * 4 + j], mean, accuracy: 1e-6)
                }
            }
        }
        let same = try x.resizedBilinear(height: 6, width: 8)
        for i in 0..<x.count { XCTAssertEqual(same.pointer[i], x.pointer[i]) }
    }

    func testPaddingPlacesTheImageAmongZeros() throws {
        let x = parameter([2, 3, 4, 5], seed: 2)
        let y = try x.padded(top: 1, left: 2, height: 7, width: 9)
        XCTAssertEqual(y.shape, [2, 3, 7, 9])
        for plane in 0..<6 {
            for i in 0..<7 {
                for j in 0..<9 {
                    let inside = (1..<5).contains(i) && (2..<7).contains(j)
                    let want = inside ? x.pointer[plane * 20 + (i - 1) * 5 + (j - 2)] : 0
                    XCTAssertEqual(y.pointer[plane * 63 + i * 9 + j], want)
                }
            }
        }
        XCTAssertThrowsError(try x.padded(top: 4, left: 0, height: 7, width: 9))
        XCTAssertThrowsError(try x.resizedBilinear(height: 0, width: 3))
    }

    func testResizeGradientsMatchFiniteDifferences() throws {
        let checker = GradientChecker(samplesPerInput: 200)
        // Down (as input diversity shrinks), up, and a different factor per axis.
        for (h, w) in [(9, 10), (5, 3), (17, 13), (12, 12)] {
            let x = parameter([2, 2, 12, 12], seed: UInt64(h * 31 + w))
            try checker.check([x]) { try $0[0].resizedBilinear(height: h, width: w) }
        }
    }

    func testPadAndTheComposedDiversityTransformGradientsMatchFiniteDifferences() throws {
        let checker = GradientChecker(samplesPerInput: 200)
        let x = parameter([2, 3, 5, 4], seed: 3)
        try checker.check([x]) { try $0[0].padded(top: 2, left: 1, height: 8, width: 8) }
        // Shrink to 10 of 12 and pad back at (1, 0): what one DI step feeds the model.
        let image = parameter([2, 1, 12, 12], seed: 4)
        try checker.check([image]) { try $0[0].resizedBilinear(height: 10, width: 10).padded(top: 1, left: 0, height: 12, width: 12) }
    }
}
