import TensorEngine

/// APGD's per-pixel parts over raw pointers. Unlike `PerturbationKernels` the step size is per
/// example (APGD halves it example by example). Every iterate stays in the eps-ball around
/// `clean` and in [0, 1].
enum AutoPGDStep {
    /// AutoAttack's random start: L∞ x + eps·t/‖t‖∞ with t ~ U(−1, 1); L2 x + eps·n/‖n‖₂ with
    /// n ~ N(0, 1) (on the sphere). Clipped to [0, 1]; `generators` has one stream per row.
    static func start(_ clean: Tensor, norm: AttackNorm, eps: Float, generators: inout [RandomGenerator]) -> Tensor {
        let adv = clean.copy()
        let n = clean.shape[0], d = clean.count / max(n, 1)
        let a = adv.pointer
        var t = [Float](repeating: 0, count: d)
        for r in 0..<n {
            var size: Float = 0
            switch norm {
            case .linf:
                for i in 0..<d { t[i] = 2 * generators[r].nextUniform() - 1; size = max(size, abs(t[i])) }
            case .l2:
                for i in 0..<d { t[i] = generators[r].nextNormal(); size += t[i] * t[i] }
                size = size.squareRoot()
            }
            let scale = eps / (size + 1e-12)
            for i in 0..<d { a[r * d + i] = min(max(a[r * d + i] + scale * t[i], 0), 1) }
        }
        return adv
    }

    /// One momentum step: z = Π(adv + η·dir(∇)), then adv ← Π(adv + α(z − adv) + (1 − α)(adv − previous)),
    /// and previous ← the old adv. dir is sign(∇) for L∞ and ∇/‖∇‖₂ for L2; Π projects and clips.
    static func step(_ adv: Tensor, previous: Tensor, gradient: Tensor, clean: Tensor, stepSizes: [Float],
                     eps: Float, norm: AttackNorm, momentum alpha: Float) {
        let n = adv.shape[0], d = adv.count / max(n, 1)
        let a = adv.pointer, p = previous.pointer, g = gradient.pointer, x = clean.pointer
        var z = [Float](repeating: 0, count: d)
        for r in 0..<n {
            let base = r * d, eta = stepSizes[r]
            switch norm {
            case .linf:
                for i in base..<base + d {
                    let low = max(x[i] - eps, 0), high = min(x[i] + eps, 1)
                    let gi = g[i]
                    let first = min(max(a[i] + (gi > 0 ? eta : (gi < 0 ? -eta : 0)), low), high)
                    let moved = min(max(a[i] + alpha * (first - a[i]) + (1 - alpha) * (a[i] - p[i]), low), high)
                    p[i] = a[i]
                    a[i] = moved
                }
            case .l2:
                var squared: Float = 0
                for i in base..<base + d { squared += g[i] * g[i] }
                let scale = eta / (squared.squareRoot() + 1e-12)
                for i in 0..<d { z[i] = a[base + i] + scale * g[base + i] }
                projectL2(&z, around: x + base, eps: eps)
                for i in 0..<d {
                    let ai = a[base + i]
                    z[i] = ai + alpha * (z[i] - ai) + (1 - alpha) * (ai - p[base + i])
                }
                projectL2(&z, around: x + base, eps: eps)
                for i in 0..<d { p[base + i] = a[base + i]; a[base + i] = z[i] }
            }
        }
    }

    /// z ← clip₀₁(Π_{‖·−x‖₂≤eps}(z)); clipping after projecting only moves pixels towards x, so z stays in the ball.
    static func projectL2(_ z: inout [Float], around x: UnsafePointer<Float>, eps: Float) {
        var squared: Float = 0
        for i in z.indices { let e = z[i] - x[i]; squared += e * e }
        let norm = squared.squareRoot()
        let shrink: Float = norm > eps ? eps / norm : 1
        for i in z.indices { z[i] = min(max(x[i] + (z[i] - x[i]) * shrink, 0), 1) }
    }
}
