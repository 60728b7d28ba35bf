import TensorEngine

/// ImageNet-C's noise corruptions: independent per value (per channel of each pixel), clipped to
/// [0, 1]. Every draw comes from the image's own generator, in value order.
enum NoiseCorruptions {
    /// x + N(0, σ²).
    static func gaussian(_ image: inout CorruptionImage, sigma: Float, _ generator: inout RandomGenerator) {
        for i in image.pixels.indices { image.pixels[i] += sigma * generator.nextNormal() }
        image.clip()
    }

    /// Poisson(λ·x)/λ: photon counting with λ photons at full intensity.
    static func shot(_ image: inout CorruptionImage, photons: Double, _ generator: inout RandomGenerator) {
        for i in image.pixels.indices {
            image.pixels[i] = Float(PoissonSampler.draw(photons * Double(image.pixels[i]), &generator) / photons)
        }
        image.clip()
    }

    /// Salt and pepper as skimage's random_noise(mode='s&p'): each value is replaced with
    /// probability `amount`, by 1 or 0 with equal odds. Two uniforms per value, always drawn, so
    /// the stream does not depend on the image.
    static func impulse(_ image: inout CorruptionImage, amount: Float, _ generator: inout RandomGenerator) {
        for i in image.pixels.indices {
            let (flip, salt) = (generator.nextUniform(), generator.nextUniform())
            if flip < amount { image.pixels[i] = salt < 0.5 ? 1 : 0 }
        }
    }

    /// x + x·N(0, σ²): noise that grows with the intensity.
    static func speckle(_ image: inout CorruptionImage, sigma: Float, _ generator: inout RandomGenerator) {
        for i in image.pixels.indices { image.pixels[i] += image.pixels[i] * sigma * generator.nextNormal() }
        image.clip()
    }
}
