import Foundation
import TensorEngine

/// The Square attack's random perturbations, per example from that example's generator. Every
/// proposal stays in the eps-ball around the clean image and in [0, 1].
enum SquareProposals {
    /// L∞: vertical stripes of ±eps (one sign per channel and column), the paper's start.
    /// L2: a grid of the ±eta pattern (see `pattern`) scaled to norm eps.
    static func start(_ clean: Tensor, norm: AttackNorm, eps: Float, generators: inout [RandomGenerator]) -> Tensor {
        let (n, c, h, w) = (clean.shape[0], clean.shape[1], clean.shape[2], clean.shape[3])
        let d = c * h * w
        let adv = clean.copy()
        let a = adv.pointer
        for r in 0..<n {
            switch norm {
            case .linf:
                for ch in 0..<c {
                    for col in 0..<w {
                        let sign: Float = generators[r].nextUniform() < 0.5 ? -1 : 1
                        for row in 0..<h { let i = r * d + (ch * h + row) * w + col; a[i] = min(max(a[i] + eps * sign, 0), 1) }
                    }
                }
            case .l2:
                var delta = [Float](repeating: 0, count: d)
                let size = max(min(h, w) / 5, 1)
                let (top, left) = ((h - 5 * size) / 2, (w - 5 * size) / 2)
                for y in stride(from: max(top, 0), through: h - size, by: size) {
                    for x in stride(from: max(left, 0), through: w - size, by: size) {
                        let eta = pattern(size, generator: &generators[r])
                        for ch in 0..<c {
                            let sign: Float = generators[r].nextUniform() < 0.5 ? -1 : 1
                            for i in 0..<size { for j in 0..<size { delta[(ch * h + y + i) * w + x + j] += sign * eta[i * size + j] } }
                        }
                    }
                }
                addScaled(delta, toward: eps, row: r, of: adv, clean: clean)
            }
        }
        return adv
    }

    /// One proposal per row of `rows` (of `best`, the current points, and `clean`), stacked in that order.
    static func propose(clean: Tensor, best: Tensor, rows: [Int], fraction: Float, norm: AttackNorm, eps: Float,
                        generators: inout [RandomGenerator]) -> Tensor {
        let (c, h, w) = (clean.shape[1], clean.shape[2], clean.shape[3])
        let proposals = best.selectingRows(rows)
        for (j, r) in rows.enumerated() {
            switch norm {
            case .linf: linfProposal(row: j, of: proposals, clean: clean.pointer + r * c * h * w, shape: (c, h, w), fraction: fraction,
                                     eps: eps, generator: &generators[r])
            case .l2: l2Proposal(row: j, of: proposals, clean: clean.pointer + r * c * h * w, shape: (c, h, w), fraction: fraction,
                                 eps: eps, generator: &generators[r])
            }
        }
        return proposals
    }

    /// Side of the square covering `fraction` of an h×w image: at least `minimum`, at most the image.
    static func side(fraction: Float, h: Int, w: Int, minimum: Int) -> Int {
        min(max(Int((fraction * Float(h * w)).squareRoot().rounded()), minimum), min(h, w))
    }

    /// L∞: a random square set to ±eps from the clean image, one sign per channel. As in AutoAttack
    /// (and torchattacks), a draw that changes nothing still costs its query: the original Square
    /// code redraws such signs, which on 1-channel images breaks a few points more
    /// (docs/ROBUSTNESS.md), but then rt would no longer measure what AutoAttack measures.
    static func linfProposal(row j: Int, of proposals: Tensor, clean x: UnsafePointer<Float>, shape: (Int, Int, Int),
                             fraction: Float, eps: Float, generator: inout RandomGenerator) {
        let (c, h, w) = shape
        let s = side(fraction: fraction, h: h, w: w, minimum: 1)
        let (top, left) = (generator.nextInt(below: h - s + 1), generator.nextInt(below: w - s + 1))
        let p = proposals.pointer + j * c * h * w
        for ch in 0..<c {
            let step: Float = generator.nextUniform() < 0.5 ? -2 * eps : 2 * eps
            for dy in 0..<s {
                for dx in 0..<s {
                    let i = (ch * h + top + dy) * w + left + dx
                    p[i] = min(max(min(max(p[i] + step, x[i] - eps), x[i] + eps), 0), 1)
                }
            }
        }
    }

    /// L2: moves the perturbation's mass from a second random square into a first one, where it is
    /// replaced by the ±eta pattern plus the old content, with the norm the two squares held plus
    /// whatever the budget had left; the whole perturbation is then rescaled to norm eps.
    static func l2Proposal(row j: Int, of proposals: Tensor, clean x: UnsafePointer<Float>, shape: (Int, Int, Int),
                           fraction: Float, eps: Float, generator: inout RandomGenerator) {
        let (c, h, w) = shape
        let p = proposals.pointer + j * c * h * w
        var delta = (0..<c * h * w).map { p[$0] - x[$0] }
        var s = side(fraction: fraction, h: h, w: w, minimum: 3)
        if s % 2 == 0 && s < min(h, w) { s += 1 }
        let first = (generator.nextInt(below: h - s + 1), generator.nextInt(below: w - s + 1))
        let second = (generator.nextInt(below: h - s + 1), generator.nextInt(below: w - s + 1))
        func inside(_ square: (Int, Int), _ y: Int, _ x: Int) -> Bool { y >= square.0 && y < square.0 + s && x >= square.1 && x < square.1 + s }
        var imageSquared: Float = 0, unionSquared: Float = 0
        for ch in 0..<c {
            for y in 0..<h {
                for x in 0..<w {
                    let e = delta[(ch * h + y) * w + x]
                    imageSquared += e * e
                    if inside(first, y, x) || inside(second, y, x) { unionSquared += e * e }
                }
            }
        }
        let budget = (max(eps * eps - imageSquared, 0) / Float(c) + unionSquared).squareRoot()
        let eta = pattern(s, generator: &generator)
        var replacement = [[Float]]()
        for ch in 0..<c {
            let sign: Float = generator.nextUniform() < 0.5 ? -1 : 1
            let old = (0..<s * s).map { delta[(ch * h + first.0 + $0 / s) * w + first.1 + $0 % s] }
            let oldNorm = old.reduce(0) { $0 + $1 * $1 }.squareRoot()
            var new = (0..<s * s).map { sign * eta[$0] + old[$0] / (oldNorm + 1e-12) }
            let newNorm = new.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in new.indices { new[i] *= budget / (newNorm + 1e-12) }
            replacement.append(new)
        }
        for ch in 0..<c {
            for i in 0..<s * s { delta[(ch * h + second.0 + i / s) * w + second.1 + i % s] = 0 }
        }
        for ch in 0..<c {
            for i in 0..<s * s { delta[(ch * h + first.0 + i / s) * w + first.1 + i % s] = replacement[ch][i] }
        }
        addScaled(delta, toward: eps, row: j, of: proposals, clean: x)
    }

    /// Row `row` of `adv` ← clip₀₁(x + eps·δ/‖δ‖₂): on the sphere before clipping, which only moves
    /// pixels towards x, so inside the ball after it.
    static func addScaled(_ delta: [Float], toward eps: Float, row: Int, of adv: Tensor, clean x: UnsafePointer<Float>) {
        let d = delta.count
        let scale = eps / (delta.reduce(0) { $0 + $1 * $1 }.squareRoot() + 1e-12)
        let a = adv.pointer + row * d
        for i in 0..<d { a[i] = min(max(x[i] + scale * delta[i], 0), 1) }
    }

    static func addScaled(_ delta: [Float], toward eps: Float, row: Int, of adv: Tensor, clean: Tensor) {
        addScaled(delta, toward: eps, row: row, of: adv, clean: clean.pointer + row * delta.count)
    }

    /// The paper's s×s L2 pattern (row-major, unit norm): nested squares with weights 1/(r+1)² around
    /// the centre of the upper half, the same negated in the lower half, transposed half of the time.
    static func pattern(_ s: Int, generator: inout RandomGenerator) -> [Float] {
        let upper = s / 2
        let top = rings(rows: upper, columns: s), bottom = rings(rows: s - upper, columns: s).map { -$0 }
        var eta = top + bottom
        let norm = eta.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for i in eta.indices { eta[i] /= norm + 1e-12 }
        guard generator.nextUniform() >= 0.5 else { return eta }
        return (0..<s * s).map { eta[($0 % s) * s + $0 / s] }
    }

    /// rows×columns, unit norm: pixel (i, j) at Chebyshev distance d from (rows/2, columns/2) weighs Σ_{r=d}^{R−1} 1/(r+1)².
    static func rings(rows: Int, columns: Int) -> [Float] {
        guard rows > 0 else { return [] }
        let radius = max(rows / 2 + 1, columns / 2 + 1)
        var values = [Float](repeating: 0, count: rows * columns)
        for i in 0..<rows {
            for j in 0..<columns {
                let distance = max(abs(i - rows / 2), abs(j - columns / 2))
                for r in distance..<radius { values[i * columns + j] += 1 / Float((r + 1) * (r + 1)) }
            }
        }
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return values.map { $0 / (norm + 1e-12) }
    }
}
