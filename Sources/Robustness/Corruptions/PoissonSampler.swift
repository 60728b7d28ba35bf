import Foundation
import TensorEngine

/// Poisson draws for shot noise (λ up to 500 per pixel). Small λ by Knuth's product of uniforms;
/// λ ≥ 10 by Hörmann's transformed rejection (PTRS, 1993), the method NumPy uses there, which
/// needs a constant number of uniforms on average instead of about λ.
enum PoissonSampler {
    static func draw(_ lambda: Double, _ generator: inout RandomGenerator) -> Double {
        if lambda <= 0 { return 0 }
        return lambda < 10 ? knuth(lambda, &generator) : transformedRejection(lambda, &generator)
    }

    static func uniform(_ generator: inout RandomGenerator) -> Double { Double(generator.next() >> 11) * 0x1p-53 }

    static func knuth(_ lambda: Double, _ generator: inout RandomGenerator) -> Double {
        let limit = exp(-lambda)
        var (count, product) = (0.0, uniform(&generator))
        while product > limit {
            count += 1
            product *= uniform(&generator)
        }
        return count
    }

    static func transformedRejection(_ lambda: Double, _ generator: inout RandomGenerator) -> Double {
        let (root, logLambda) = (lambda.squareRoot(), log(lambda))
        let b = 0.931 + 2.53 * root
        let a = -0.059 + 0.02483 * b
        let inverseAlpha = 1.1239 + 1.1328 / (b - 3.4)
        let vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = uniform(&generator) - 0.5
            let v = uniform(&generator)
            let us = 0.5 - abs(u)
            let k = ((2 * a / us + b) * u + lambda + 0.43).rounded(.down)
            if us >= 0.07 && v <= vr { return k }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if log(v) + log(inverseAlpha) - log(a / (us * us) + b) <= -lambda + k * logLambda - lgamma(k + 1) { return k }
        }
    }
}
