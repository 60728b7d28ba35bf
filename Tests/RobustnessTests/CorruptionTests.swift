import Datasets
import Foundation
@testable import Robustness
import TensorEngine
import XCTest

/// Properties of every corruption on gray 28×28 and RGB 32×32 images (fixed seeds): shape, range,
/// determinism per seed and example, growing distance from the clean image with severity, and the
/// formulas' simple consequences. Agreement with an independent NumPy/SciPy/PIL implementation is
/// in CorruptionReferenceTests.
final class CorruptionTests: XCTestCase {
    func testShapeAndRangeForEveryKindAndSeverity() throws {
        for (channels, side) in CorruptionImages.shapes {
            let clean = CorruptionImages.image(channels: channels, side: side)
            for kind in CorruptionKind.applicable(toChannels: channels) {
                for severity in CorruptionKind.severities {
                    let out = try CorruptionImages.corrupted(kind, severity: severity, clean)
                    XCTAssertEqual([out.channels, out.height, out.width], [channels, side, side], "\(kind) \(severity)")
                    XCTAssertEqual(out.pixels.count, clean.pixels.count)
                    XCTAssertTrue(out.pixels.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "\(kind) \(severity) on \(channels) channels: outside [0, 1]")
                    XCTAssertNotEqual(out.pixels, clean.pixels, "\(kind) \(severity) on \(channels) channels changed nothing")
                }
            }
        }
    }

    func testDeterministicPerSeedAndExample() throws {
        for (channels, side) in CorruptionImages.shapes {
            let clean = CorruptionImages.image(channels: channels, side: side)
            for kind in CorruptionKind.applicable(toChannels: channels) {
                let a = try CorruptionImages.corrupted(kind, severity: 3, clean, example: 4, seed: 9)
                let b = try CorruptionImages.corrupted(kind, severity: 3, clean, example: 4, seed: 9)
                XCTAssertEqual(a.pixels, b.pixels, "\(kind): the same seed and example must give the same image")
                guard kind.isRandom else { continue }
                let otherExample = try CorruptionImages.corrupted(kind, severity: 3, clean, example: 5, seed: 9)
                let otherSeed = try CorruptionImages.corrupted(kind, severity: 3, clean, example: 4, seed: 10)
                XCTAssertNotEqual(a.pixels, otherExample.pixels, "\(kind): each example has its own stream")
                XCTAssertNotEqual(a.pixels, otherSeed.pixels, "\(kind): each seed has its own stream")
            }
        }
    }

    /// The mean distance from the clean image over 6 images and 2 draws each grows with severity,
    /// except where ImageNet-C's parameters do not order it: saturate goes down in saturation at 1-2
    /// and up at 3-5 (so 1 < 2 and 3 < 4 < 5), and the elastic transform trades a smaller affine
    /// warp for a stronger displacement field (docs/ROBUSTNESS.md). Motion blur's order is checked
    /// at fixed angles (testMotionBlurGrowsWithSeverityAtAFixedAngle): its random angle moves the
    /// distance more than severities 3 and 4 differ.
    func testDistanceFromCleanGrowsWithSeverity() throws {
        for (channels, side) in CorruptionImages.shapes {
            let images = (0..<6).map { CorruptionImages.image(channels: channels, side: side, variant: $0) }
            for kind in CorruptionKind.applicable(toChannels: channels) {
                let distances = try CorruptionKind.severities.map { severity in
                    try images.enumerated().reduce(0.0) { sum, item in
                        try sum + (0..<2).reduce(0.0) { inner, draw in
                            inner + CorruptionImages.distance(try CorruptionImages.corrupted(kind, severity: severity, item.element,
                                                                                           example: item.offset * 2 + draw), item.element)
                        }
                    } / Double(images.count * 2)
                }
                let ordered: [[Int]]
                switch kind {
                case .saturate: ordered = [[0, 1], [2, 3, 4]]
                case .elasticTransform, .motionBlur: ordered = []
                default: ordered = [[0, 1, 2, 3, 4]]
                }
                for run in ordered {
                    for (a, b) in zip(run, run.dropFirst()) {
                        XCTAssertLessThan(distances[a], distances[b], "\(kind) on \(channels) channels: severity \(a + 1) vs \(b + 1): \(distances)")
                    }
                }
            }
        }
    }

    func testMotionBlurGrowsWithSeverityAtAFixedAngle() {
        for (channels, side) in CorruptionImages.shapes {
            let clean = CorruptionImages.image(channels: channels, side: side)
            for angle in [-40.0, 0, 30] {
                let distances = CorruptionSeverity.motionBlur.map { p -> Double in
                    var image = clean
                    BlurCorruptions.motion(&image, radius: p.radius, sigma: p.sigma, angleDegrees: angle)
                    return CorruptionImages.distance(image, clean)
                }
                // Severities 3 (R 6, σ 2) and 4 (R 8, σ 2) differ only in taps 13-16, of weight e^(−13²/8) ≈ 7e-10:
                // CIFAR-10-C's parameters make them the same blur, so 3 ≤ 4 within 1e-6.
                for (i, (a, b)) in zip(distances, distances.dropFirst()).enumerated() {
                    if i == 2 { XCTAssertLessThanOrEqual(abs(a - b), 1e-6, "angle \(angle): \(distances)") } else {
                        XCTAssertLessThan(a, b, "angle \(angle), \(channels) channels: \(distances)")
                    }
                }
            }
        }
    }

    func testContrastKeepsEachChannelsMeanAndBrightnessOfGrayAddsItsShift() throws {
        var mid = CorruptionImage(channels: 3, height: 8, width: 8, pixels: (0..<192).map { Float(64 + $0 % 128) / 255 })
        let means = (0..<3).map { c in mid.pixels[c * 64..<(c + 1) * 64].reduce(0, +) / 64 }
        try Corruption.applyForTest(.contrast, severity: 5, &mid)
        for c in 0..<3 { XCTAssertEqual(mid.pixels[c * 64..<(c + 1) * 64].reduce(0, +) / 64, means[c], accuracy: 1e-5) }
        let gray = CorruptionImage(channels: 1, height: 4, width: 4, pixels: (0..<16).map { Float($0) / 20 })
        var bright = gray
        try Corruption.applyForTest(.brightness, severity: 2, &bright)
        for (a, b) in zip(gray.pixels, bright.pixels) { XCTAssertEqual(b, min(a + 0.1, 1), accuracy: 1e-6) }
    }

    func testHSVRoundTripsAndScalingValueScalesRGB() {
        var generator = RandomGenerator(seed: 3)
        for _ in 0..<1000 {
            let (r, g, b) = (Double(generator.nextUniform()), Double(generator.nextUniform()), Double(generator.nextUniform()))
            let back = ColorCorruptions.toRGB(ColorCorruptions.toHSV(r, g, b))
            XCTAssertEqual(back.0, r, accuracy: 1e-12); XCTAssertEqual(back.1, g, accuracy: 1e-12); XCTAssertEqual(back.2, b, accuracy: 1e-12)
        }
    }

    func testBlursKeepAConstantImage() throws {
        for kind in [CorruptionKind.gaussianBlur, .defocusBlur, .motionBlur, .zoomBlur, .pixelate, .elasticTransform] {
            var flat = CorruptionImage(channels: 3, height: 16, width: 16, pixels: Array(repeating: 0.4, count: 768))
            try Corruption.applyForTest(kind, severity: 5, &flat)
            for v in flat.pixels { XCTAssertEqual(v, 0.4, accuracy: 1e-5, "\(kind)") }
        }
    }

    func testPoissonSamplerHasMeanAndVarianceLambda() {
        for lambda in [0.5, 4.0, 30.0, 250.0] {
            var generator = RandomGenerator(seed: 11)
            let draws = (0..<40_000).map { _ in PoissonSampler.draw(lambda, &generator) }
            let mean = draws.reduce(0, +) / Double(draws.count)
            let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(draws.count - 1)
            // 40,000 draws: the mean's standard error is √(λ/40000) (< 0.5% of λ above λ = 4).
            XCTAssertEqual(mean, lambda, accuracy: 5 * (lambda / 40_000).squareRoot(), "λ \(lambda)")
            XCTAssertEqual(variance / lambda, 1, accuracy: 0.05, "λ \(lambda)")
            XCTAssertTrue(draws.allSatisfy { $0 >= 0 && $0 == $0.rounded() })
        }
    }

    func testImpulseNoiseReplacesItsFractionWithBlackOrWhite() throws {
        let clean = CorruptionImage(channels: 3, height: 64, width: 64, pixels: Array(repeating: 0.5, count: 3 * 4096))
        let noisy = try CorruptionImages.corrupted(.impulseNoise, severity: 5, clean)
        let replaced = noisy.pixels.filter { $0 != 0.5 }
        XCTAssertTrue(replaced.allSatisfy { $0 == 0 || $0 == 1 })
        XCTAssertEqual(Double(replaced.count) / Double(noisy.pixels.count), 0.07, accuracy: 0.01)
        XCTAssertEqual(Double(replaced.filter { $0 == 1 }.count) / Double(replaced.count), 0.5, accuracy: 0.05)
    }

    func testJPEGOfAnEightBitImageDecodesToEightBitValuesNearTheInput() throws {
        for (channels, side) in CorruptionImages.shapes {
            let clean = CorruptionImages.image(channels: channels, side: side)
            let out = try CorruptionImages.corrupted(.jpegCompression, severity: 1, clean)
            XCTAssertTrue(out.pixels.allSatisfy { ($0 * 255).rounded() == $0 * 255 })
            // Quality 80 on a noisy 28×28 / 32×32 image (RGB with 4:2:0 chroma): an RMS error of a few levels.
            XCTAssertLessThan(CorruptionImages.distance(out, clean) / Double(clean.pixels.count).squareRoot(), 0.1)
        }
    }

    func testZoomFactorsFollowNumpyArange() {
        XCTAssertEqual(CorruptionKind.severities.map { CorruptionSeverity.zoomFactors(severity: $0).count }, [7, 12, 16, 21, 26])
        XCTAssertEqual(CorruptionSeverity.zoomFactors(severity: 1).last!, 1.06, accuracy: 1e-12)
        XCTAssertEqual(CorruptionSeverity.zoomFactors(severity: 5).last!, 1.2500000000000002, "np.arange's last digit")
    }

    func testSuiteParsingNamesTheKeyOfBadInput() throws {
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message { try CorruptionSuite.parse(kinds: ["fog"], severities: nil, seed: 0) }.hasPrefix("kinds: unknown corruption 'fog'"))
        XCTAssertTrue(message { try CorruptionSuite.parse(kinds: nil, severities: [0], seed: 0) }.hasPrefix("severities: severity must be 1 to 5, got 0"))
        XCTAssertTrue(message { try CorruptionSuite.parse(kinds: nil, severities: [6], seed: 0) }.contains("got 6"))
        XCTAssertTrue(message { try CorruptionSuite.parse(kinds: ["contrast", "contrast"], severities: nil, seed: 0) }.contains("listed twice"))
        XCTAssertTrue(message { try CorruptionSuite.parse(kinds: ["saturate"], severities: nil, seed: 0).specs(channels: 1) }.hasPrefix("kinds: saturate"))
        let all = try CorruptionSuite.parse(kinds: nil, severities: [1, 3], seed: 0)
        XCTAssertEqual(try all.specs(channels: 1).count, 2 * (CorruptionKind.allCases.count - 1))
        XCTAssertEqual(try all.specs(channels: 3).count, 2 * CorruptionKind.allCases.count)
    }

    /// The evaluator's masks do not depend on the batch size (each example has its own stream),
    /// and accuracy under the mildest corruptions stays near the clean accuracy of a trained model.
    func testEvaluatorIsIndependentOfBatchSize() throws {
        let model = Fixtures.trainedModel
        let data = try Fixtures.testData(for: model, limit: 60)
        let specs = try CorruptionSuite(kinds: [.gaussianNoise, .motionBlur, .elasticTransform, .jpegCompression], severities: [1, 5], seed: 3).specs(channels: 1)
        let small = try CorruptionEvaluator(batchSize: 7).evaluate(model, on: data, corruptions: specs)
        let large = try CorruptionEvaluator(batchSize: 64).evaluate(model, on: data, corruptions: specs)
        XCTAssertEqual(small.results.map(\.correct), large.results.map(\.correct))
        XCTAssertEqual(small.results.map(\.accuracy), large.results.map(\.accuracy))
        XCTAssertEqual(small.cleanAccuracy, large.cleanAccuracy)
        XCTAssertEqual(small.kinds, [.gaussianNoise, .motionBlur, .elasticTransform, .jpegCompression])
        for r in small.results {
            XCTAssertEqual(r.correct.count, 60)
            XCTAssertEqual(r.accuracy, Double(r.correct.filter { $0 }.count) / 60)
        }
        XCTAssertEqual(small.meanAccuracy, small.kinds.map(small.meanAccuracy).reduce(0, +) / 4, accuracy: 1e-12)
    }

    func testEvaluatorRejectsSaturateOnGrayBeforeAnyWork() throws {
        let model = Fixtures.trainedModel
        let data = try Fixtures.testData(for: model, limit: 4)
        XCTAssertThrowsError(try CorruptionEvaluator().evaluate(model, on: data, corruptions: [CorruptionSpec(kind: .saturate, severity: 1)])) {
            XCTAssertTrue("\($0)".hasPrefix("kinds: saturate"), "\($0)")
        }
        XCTAssertThrowsError(try CorruptionEvaluator().evaluate(model, on: data, corruptions: [CorruptionSpec(kind: .contrast, severity: 9)])) {
            XCTAssertTrue("\($0)".hasPrefix("severities:"), "\($0)")
        }
    }
}

extension Corruption {
    /// A corruption with a fixed generator, for the tests that do not care about the stream.
    static func applyForTest(_ kind: CorruptionKind, severity: Int, _ image: inout CorruptionImage) throws {
        var generator = RandomGenerator(seed: 1)
        try apply(kind, severity: severity, to: &image, generator: &generator)
    }
}
