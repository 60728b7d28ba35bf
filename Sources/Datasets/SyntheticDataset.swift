import Foundation
import TensorEngine

/// A deterministic, procedurally drawn dataset for tests and demos: every class is a
/// shape (disc, square, triangle, ring, cross, half-disc) filled with a striped texture of
/// its own orientation and frequency, in its own hue. Each example draws the shape at a
/// random place, size and rotation, jitters the hue, brightness, contrast and stripe phase, and
/// lays it on a random low-contrast background texture plus pixel noise: a small CNN
/// learns it, a nearest-mean classifier on raw pixels does not solve it.
///
/// Classes beyond six share a shape and differ by texture (and hue), so any class count works.
/// The same configuration gives the same bytes on every machine.
public struct SyntheticDataset: Equatable, Sendable {
    public var classes = 10
    public var channels = 3
    public var height = 32
    public var width = 32
    public var trainCount = 5000
    public var testCount = 1000
    public var seed: UInt64 = 0

    public init(classes: Int = 10, channels: Int = 3, height: Int = 32, width: Int = 32,
                trainCount: Int = 5000, testCount: Int = 1000, seed: UInt64 = 0) {
        self.classes = classes
        self.channels = channels
        self.height = height
        self.width = width
        self.trainCount = trainCount
        self.testCount = testCount
        self.seed = seed
    }

    /// Parses `key=value` pairs separated by commas (the part after `synthetic:`): classes,
    /// channels, size (square), height, width, train, test, seed.
    public init(parameters: String) throws {
        self.init()
        for pair in parameters.split(separator: ",") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = UInt64(parts[1]) else {
                throw DatasetError.unrecognizedDataset(path: "synthetic:\(parameters)", reason: "'\(pair)' is not key=number")
            }
            let number = Int(clamping: value)
            switch parts[0] {
            case "classes": classes = number
            case "channels": channels = number
            case "size": (height, width) = (number, number)
            case "height": height = number
            case "width": width = number
            case "train": trainCount = number
            case "test": testCount = number
            case "seed": seed = value
            default:
                throw DatasetError.unrecognizedDataset(path: "synthetic:\(parameters)",
                    reason: "unknown parameter '\(parts[0])' (classes, channels, size, height, width, train, test, seed)")
            }
        }
    }

    /// Draws `split`. Labels cycle 0, 1, …, classes-1 so every class has the same share.
    public func make(_ split: DatasetSplit) throws -> ImageDataset {
        guard classes >= 1, channels >= 1, height >= 4, width >= 4 else {
            throw DatasetError.invalidArgument(what: "synthetic dataset",
                                               reason: "needs classes >= 1, channels >= 1 and images of at least 4x4 (got \(classes) classes, \(channels)x\(height)x\(width))")
        }
        let count = split == .train ? trainCount : testCount
        let classStyles = (0..<classes).map { ClassStyle(label: $0, seed: seed) }
        let imageSize = channels * height * width
        let storage = PixelStorage(count: count * imageSize)
        let labels = (0..<count).map { $0 % classes }
        let base = storage.pointer
        // Examples are independent (each has its own generator), so drawing them in parallel
        // gives the same bytes as drawing them in order.
        DispatchQueue.concurrentPerform(iterations: max(1, min(count, 8))) { chunk in
            let chunks = max(1, min(count, 8))
            for index in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                var generator = RandomGenerator(seed: seed, stream: "synthetic/\(split.rawValue)/\(index)")
                draw(classStyles[labels[index]], into: base + index * imageSize, generator: &generator)
            }
        }
        let name = "synthetic(\(classes) classes, \(channels)x\(height)x\(width), seed \(seed))/\(split.rawValue)"
        return ImageDataset(name: name, channels: channels, height: height, width: width, pixels: storage,
                            labels: labels, classNames: (0..<classes).map { "class\($0)" })
    }

    /// What makes a class a class.
    struct ClassStyle {
        let shape: Int           // 0 disc, 1 square, 2 triangle, 3 ring, 4 cross, 5 half-disc
        let stripeAngle: Float   // radians, in image coordinates
        let stripeFrequency: Float  // cycles per shape radius
        let hue: Float           // in [0, 6), see `rgb(hue:)`

        init(label: Int, seed: UInt64) {
            var generator = RandomGenerator(seed: seed, stream: "synthetic/class/\(label)")
            shape = label % 6
            // Classes sharing a shape get well separated stripe orientations (golden-angle steps).
            stripeAngle = Float(label / 6) * 2.39996 + 0.3 * generator.nextUniform()
            stripeFrequency = 1.2 + 1.6 * generator.nextUniform()
            hue = generator.nextUniform() * 6
        }
    }

    /// Fully saturated color of `hue` in [0, 6).
    static func rgb(hue: Float) -> (Float, Float, Float) {
        let h = hue.truncatingRemainder(dividingBy: 6), x = 1 - abs(h.truncatingRemainder(dividingBy: 2) - 1)
        switch Int(h) {
        case 0: return (1, x, 0)
        case 1: return (x, 1, 0)
        case 2: return (0, 1, x)
        case 3: return (0, x, 1)
        case 4: return (x, 0, 1)
        default: return (1, 0, x)
        }
    }

    static func inside(shape: Int, u: Float, v: Float) -> Bool {
        switch shape {
        case 0: return u * u + v * v <= 1
        case 1: return max(abs(u), abs(v)) <= 0.8
        case 2:  // equilateral triangle: three half-planes at 120 degrees
            return v <= 0.5 && -0.866 * u - 0.5 * v <= 0.5 && 0.866 * u - 0.5 * v <= 0.5
        case 3: let r = u * u + v * v; return r <= 1 && r >= 0.36
        case 4: return (abs(u) <= 0.3 && abs(v) <= 1) || (abs(v) <= 0.3 && abs(u) <= 1)
        // Not a diamond: under random rotation a diamond is a square, and the classes would blur.
        default: return v >= 0 && u * u + v * v <= 1
        }
    }

    /// Draws one example (CHW bytes at `output`).
    func draw(_ style: ClassStyle, into output: UnsafeMutablePointer<UInt8>, generator: inout RandomGenerator) {
        let side = Float(min(height, width))
        let centerX = Float(width) * (0.3 + 0.4 * generator.nextUniform())
        let centerY = Float(height) * (0.3 + 0.4 * generator.nextUniform())
        let radius = side * (0.22 + 0.14 * generator.nextUniform())
        let rotation = 2 * Float.pi * generator.nextUniform()
        let (cosR, sinR) = (cos(rotation), sin(rotation))
        let angle = style.stripeAngle + 0.25 * (generator.nextUniform() - 0.5)
        let (stripeX, stripeY) = (cos(angle), sin(angle))
        let frequency = 2 * Float.pi * style.stripeFrequency / radius
        let phase = 2 * Float.pi * generator.nextUniform()
        let hueJitter = 0.6 * (generator.nextUniform() - 0.5)
        let jittered = SyntheticDataset.rgb(hue: style.hue + hueJitter + 6)
        let brightness = 0.55 + 0.45 * generator.nextUniform()
        let contrast = 0.4 + 0.5 * generator.nextUniform()
        let background = 0.15 + 0.5 * generator.nextUniform()
        let backgroundAngle = 2 * Float.pi * generator.nextUniform()
        let backgroundFrequency = 2 * Float.pi * (0.5 + 2 * generator.nextUniform()) / side
        let (backgroundX, backgroundY) = (cos(backgroundAngle), sin(backgroundAngle))
        let backgroundTint = (generator.nextUniform(), generator.nextUniform(), generator.nextUniform())
        let noise: Float = 0.08
        let plane = height * width
        let foreground = [jittered.0, jittered.1, jittered.2]
        let tint = [backgroundTint.0, backgroundTint.1, backgroundTint.2]

        for y in 0..<height {
            for x in 0..<width {
                let dx = Float(x) + 0.5 - centerX, dy = Float(y) + 0.5 - centerY
                let u = (cosR * dx + sinR * dy) / radius, v = (-sinR * dx + cosR * dy) / radius
                let isShape = SyntheticDataset.inside(shape: style.shape, u: u, v: v)
                let stripes = 0.5 + 0.5 * sin(frequency * (stripeX * dx + stripeY * dy) + phase)
                let backgroundWave = 0.5 + 0.5 * sin(backgroundFrequency * (backgroundX * Float(x) + backgroundY * Float(y)))
                for c in 0..<channels {
                    var value: Float
                    if isShape {
                        // One channel: the color's luma; three or more: its RGB components in turn.
                        let hue = channels == 1 ? 0.299 * foreground[0] + 0.587 * foreground[1] + 0.114 * foreground[2] : foreground[c % 3]
                        value = brightness * (0.35 + 0.65 * hue) * (1 - contrast + contrast * stripes)
                    } else {
                        let shade = channels == 1 ? 0.75 : 0.5 + 0.5 * tint[c % 3]
                        value = background * shade * (0.7 + 0.3 * backgroundWave)
                    }
                    value += noise * generator.nextNormal()
                    output[c * plane + y * width + x] = UInt8(max(0, min(255, value * 255 + 0.5)))
                }
            }
        }
    }
}
