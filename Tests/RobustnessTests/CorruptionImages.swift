import Foundation
@testable import Robustness
import TensorEngine

/// Fixed test images for the corruption tests: smooth structure (so blurs change something), an
/// edge, saturated colours and pure black and white pixels (so clipping and HSV corners are
/// exercised), quantised to k/255 as dataset images are.
enum CorruptionImages {
    static func image(channels: Int, side: Int, variant: Int = 0) -> CorruptionImage {
        var generator = RandomGenerator(seed: UInt64(100 + variant), stream: "corruption-test-image")
        var pixels = [Float](repeating: 0, count: channels * side * side)
        for c in 0..<channels {
            for y in 0..<side {
                for x in 0..<side {
                    var v = 0.5 + 0.35 * sin(Double(x) * 0.45 + Double(c) * 1.7 + Double(variant)) * cos(Double(y) * 0.3 - Double(variant))
                    if x > side / 2 && y < side / 3 { v = c == 0 ? 0.95 : 0.1 }  // a saturated block with an edge
                    v += 0.05 * Double(generator.nextNormal())
                    if x == 0 && y == 0 { v = 0 }
                    if x == side - 1 && y == side - 1 { v = 1 }
                    pixels[(c * side + y) * side + x] = Float((min(max(v, 0), 1) * 255).rounded()) / 255
                }
            }
        }
        return CorruptionImage(channels: channels, height: side, width: side, pixels: pixels)
    }

    /// Gray 28×28 (Fashion-MNIST's shape) and RGB 32×32 (CIFAR's).
    static let shapes: [(channels: Int, side: Int)] = [(1, 28), (3, 32)]

    static func corrupted(_ kind: CorruptionKind, severity: Int, _ image: CorruptionImage, example: Int = 0, seed: UInt64 = 0) throws -> CorruptionImage {
        var copy = image
        try CorruptionSpec(kind: kind, severity: severity, seed: seed).apply(&copy, example: example)
        return copy
    }

    static func distance(_ a: CorruptionImage, _ b: CorruptionImage) -> Double {
        zip(a.pixels, b.pixels).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot()
    }
}
