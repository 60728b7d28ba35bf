import Foundation

/// A seeded random generator (xoshiro256**, seeded through SplitMix64): the same
/// seed gives the same bits on every machine. Every random choice of the program
/// flows from one of these, never from the system generator.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        (s0, s1, s2, s3) = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// An independent stream derived from this seed and a label (e.g. a layer name or an epoch).
    public init(seed: UInt64, stream: String) {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a, stable across runs (Hasher is not)
        for byte in stream.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        self.init(seed: seed ^ h)
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Standard normal (Box–Muller).
    public mutating func nextNormal() -> Float {
        let u1 = Double(next() >> 11) * 0x1p-53, u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * Foundation.log(1 - u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// Uniform integer in 0..<bound without modulo bias.
    public mutating func nextInt(below bound: Int) -> Int { Int.random(in: 0..<bound, using: &self) }
}

extension Tensor {
    /// Uniform values in [low, high).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, generator: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape) { buffer in
            for i in buffer.indices { buffer[i] = low + (high - low) * generator.nextUniform() }
        }
    }

    /// Normal values with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, generator: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape) { buffer in
            for i in buffer.indices { buffer[i] = mean + std * generator.nextNormal() }
        }
    }

    /// Kaiming (He) uniform initialization as PyTorch's default for Conv2d/Linear weights:
    /// U(−b, b) with b = sqrt(6 / ((1 + a²) fan_in)), a = sqrt(5).
    public static func kaimingUniform(_ shape: [Int], fanIn: Int, a: Float = Float(5).squareRoot(), generator: inout RandomGenerator) -> Tensor {
        let gain = (2 / (1 + a * a)).squareRoot()
        let bound = gain * (3 / Float(fanIn)).squareRoot()
        return uniform(shape, low: -bound, high: bound, generator: &generator)
    }

    /// Kaiming (He) normal initialization, fan-out mode with ReLU gain: N(0, 2 / fan_out)
    /// (torchvision's ResNet convolutions).
    public static func kaimingNormal(_ shape: [Int], fanOut: Int, generator: inout RandomGenerator) -> Tensor {
        normal(shape, std: (2 / Float(fanOut)).squareRoot(), generator: &generator)
    }
}
