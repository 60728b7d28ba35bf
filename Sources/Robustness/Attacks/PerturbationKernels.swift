import TensorEngine

/// The per-pixel parts of an attack step, over raw pointers: one pass each, no temporaries.
/// Every function leaves `adv` inside the eps-ball around `clean` and inside [0, 1].
enum PerturbationKernels {
    /// adv ← clip₀₁(Π_{‖·−x‖∞≤eps}(adv + α·sign(direction))).
    static func linfStep(_ adv: Tensor, direction: Tensor, clean: Tensor, stepSize alpha: Float, eps: Float) {
        let a = adv.pointer, g = direction.pointer, x = clean.pointer
        Parallel.forEachChunk(adv.count, grain: 16384) { _, range in
            for i in range {
                let gi = g[i]
                let stepped = a[i] + (gi > 0 ? alpha : (gi < 0 ? -alpha : 0))
                let projected = min(max(stepped, x[i] - eps), x[i] + eps)
                a[i] = min(max(projected, 0), 1)
            }
        }
    }

    /// adv ← clip₀₁(Π_{‖·−x‖₂≤eps}(adv + α·direction/‖direction‖₂)), per example.
    static func l2Step(_ adv: Tensor, direction: Tensor, clean: Tensor, stepSize alpha: Float, eps: Float) {
        let n = adv.shape[0], d = adv.count / max(n, 1)
        let a = adv.pointer, g = direction.pointer
        for r in 0..<n {
            let base = r * d
            var squared: Float = 0
            for i in base..<base + d { squared += g[i] * g[i] }
            // A zero gradient gives no direction: the iterate stays (never 0/0).
            let scale = alpha / max(squared.squareRoot(), 1e-12)
            for i in base..<base + d { a[i] += scale * g[i] }
        }
        projectL2(adv, clean: clean, eps: eps)
    }

    /// Projects each example of adv onto the L2 ball of radius eps around clean, then clips to [0, 1].
    /// Clipping after projecting only moves pixels towards `clean`, so the result stays in the ball.
    static func projectL2(_ adv: Tensor, clean: Tensor, eps: Float) {
        let n = adv.shape[0], d = adv.count / max(n, 1)
        let a = adv.pointer, x = clean.pointer
        for r in 0..<n {
            let base = r * d
            var squared: Float = 0
            for i in base..<base + d { let e = a[i] - x[i]; squared += e * e }
            let norm = squared.squareRoot()
            let shrink: Float = norm > eps ? eps / norm : 1
            for i in base..<base + d { a[i] = min(max(x[i] + (a[i] - x[i]) * shrink, 0), 1) }
        }
    }

    /// Projects onto the L∞ ball around clean and clips to [0, 1].
    static func projectLinf(_ adv: Tensor, clean: Tensor, eps: Float) {
        let a = adv.pointer, x = clean.pointer
        for i in 0..<adv.count { a[i] = min(max(min(max(a[i], x[i] - eps), x[i] + eps), 0), 1) }
    }

    static func project(_ adv: Tensor, clean: Tensor, norm: AttackNorm, eps: Float) {
        switch norm {
        case .linf: projectLinf(adv, clean: clean, eps: eps)
        case .l2: projectL2(adv, clean: clean, eps: eps)
        }
    }

    /// The first iterate: the clean input, or a random point of the ball, inside [0, 1].
    static func start(_ clean: Tensor, _ start: RandomStart, norm: AttackNorm, eps: Float, generator: inout RandomGenerator) -> Tensor {
        let adv = clean.copy()
        let a = adv.pointer
        switch start {
        case .none:
            return adv
        case let .gaussian(std):
            for i in 0..<adv.count { a[i] += std * generator.nextNormal() }
        case .uniform:
            switch norm {
            case .linf:
                for i in 0..<adv.count { a[i] += eps * (2 * generator.nextUniform() - 1) }
            case .l2:
                let n = adv.shape[0], d = adv.count / max(n, 1)
                for r in 0..<n {
                    var direction = (0..<d).map { _ in generator.nextNormal() }
                    let norm = max(direction.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
                    let radius = eps * generator.nextUniform()
                    for i in 0..<d { direction[i] *= radius / norm; a[r * d + i] += direction[i] }
                }
            }
        }
        project(adv, clean: clean, norm: norm, eps: eps)
        return adv
    }

    /// MI-FGSM's accumulator: velocity ← μ·velocity + g/‖g‖₁, per example.
    static func accumulateMomentum(_ velocity: Tensor, gradient g: Tensor, decay: Float) {
        let n = g.shape[0], d = g.count / max(n, 1)
        let v = velocity.pointer, gp = g.pointer
        for r in 0..<n {
            let base = r * d
            var l1: Float = 0
            for i in base..<base + d { l1 += Swift.abs(gp[i]) }
            let scale = 1 / max(l1, 1e-12)
            for i in base..<base + d { v[i] = decay * v[i] + scale * gp[i] }
        }
    }

    /// sum += g, element by element (expectation over transformation sums its passes' gradients).
    static func accumulate(_ g: Tensor, into sum: Tensor) {
        let s = sum.pointer, gp = g.pointer
        for i in 0..<sum.count { s[i] += gp[i] }
    }

    /// t ← factor·t, in place.
    static func scale(_ t: Tensor, by factor: Float) {
        let p = t.pointer
        for i in 0..<t.count { p[i] *= factor }
    }

    /// How many examples have an input gradient that is exactly zero everywhere (gradient masking).
    static func zeroGradientExamples(_ g: Tensor) -> Int {
        let n = g.shape[0], d = g.count / max(n, 1)
        let p = g.pointer
        var zero = 0
        for r in 0..<n {
            var allZero = true
            for i in r * d..<(r + 1) * d where p[i] != 0 { allZero = false; break }
            if allZero { zero += 1 }
        }
        return zero
    }

    /// Copies example `r` of `source` into `destination` (both (N, ...)).
    static func copyRow(_ r: Int, from source: Tensor, to destination: Tensor) {
        copyRow(r, into: r, from: source, to: destination)
    }

    /// Copies example `r` of `source` into example `target` of `destination` (rows of the same size).
    static func copyRow(_ r: Int, into target: Int, from source: Tensor, to destination: Tensor) {
        let d = source.count / max(source.shape[0], 1)
        (destination.pointer + target * d).update(from: source.pointer + r * d, count: d)
    }
}
