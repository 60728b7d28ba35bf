/// Loops written with 8-lane SIMD values because LLVM leaves their plain forms scalar:
/// reductions (it may not reorder float additions) and selects (it compiles them to branches,
/// which mispredict on ReLU's random signs). Profiling resnet20 showed these scalar loops at
/// about a fifth of a training step.
enum VectorKernels {
    typealias Lanes = SIMD8<Float>

    /// Partial sums are flushed to Double every this many elements, so a long row never
    /// accumulates more than `block / 8` Float additions per lane.
    static let block = 512

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }

    @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
    }

    /// d[i] = y[i] > 0 ? g[i] : 0 (ReLU's backward; a NaN y passes nothing, as `y > 0` is false).
    @inline(__always)
    static func passWherePositive(_ d: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
                                  _ y: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            store(Lanes.zero.replacing(with: load(g + i), where: load(y + i) .> 0), d + i)
            i += 8
        }
        while i < count { d[i] = y[i] > 0 ? g[i] : 0; i += 1 }
    }

    /// (Σ (x − shift), Σ (x − shift)²) over `count` floats.
    static func shiftedSums(_ x: UnsafePointer<Float>, count: Int, shift: Float) -> (Double, Double) {
        var sum = 0.0, squares = 0.0
        var start = 0
        while start < count {
            let end = min(count, start + block)
            var s = Lanes.zero, ss = Lanes.zero
            let center = Lanes(repeating: shift)
            var i = start
            while i + 8 <= end {
                let d = load(x + i) - center
                s += d
                ss += d * d
                i += 8
            }
            var tail: Float = 0, tailSquares: Float = 0
            while i < end { let d = x[i] - shift; tail += d; tailSquares += d * d; i += 1 }
            sum += Double(s.sum()) + Double(tail)
            squares += Double(ss.sum()) + Double(tailSquares)
            start = end
        }
        return (sum, squares)
    }

    /// (Σ g, Σ g·(x − mean)) over `count` floats: batch-norm's backward reductions.
    static func gradientSums(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int,
                             mean: Float) -> (Double, Double) {
        gradientSums(x, count: count, mean: mean, lanes: { load(g + $0) }, scalar: { g[$0] })
    }

    /// `gradientSums` of g masked by y > 0 (the gradient through a fused ReLU with output y).
    static func maskedGradientSums(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                   count: Int, mean: Float) -> (Double, Double) {
        gradientSums(x, count: count, mean: mean, lanes: { Lanes.zero.replacing(with: load(g + $0), where: load(y + $0) .> 0) },
                     scalar: { y[$0] > 0 ? g[$0] : 0 })
    }

    /// (Σ g, Σ g·(x − mean)) with g read through `lanes` (8 at i) and `scalar` (the tail).
    @inline(__always)
    private static func gradientSums(_ x: UnsafePointer<Float>, count: Int, mean: Float,
                                     lanes: (Int) -> Lanes, scalar: (Int) -> Float) -> (Double, Double) {
        var sumG = 0.0, sumGX = 0.0
        var start = 0
        while start < count {
            let end = min(count, start + block)
            var s = Lanes.zero, sx = Lanes.zero
            let center = Lanes(repeating: mean)
            var i = start
            while i + 8 <= end {
                let gi = lanes(i)
                s += gi
                sx += gi * (load(x + i) - center)
                i += 8
            }
            var tail: Float = 0, tailX: Float = 0
            while i < end { let gi = scalar(i); tail += gi; tailX += gi * (x[i] - mean); i += 1 }
            sumG += Double(s.sum()) + Double(tail)
            sumGX += Double(sx.sum()) + Double(tailX)
            start = end
        }
        return (sumG, sumGX)
    }

    /// d[i] = f(d[i] + bias + r[i]) in place, r optional, f ReLU when `relu` (else the identity):
    /// a convolution's epilogue (`ConvEpilogue`).
    @inline(__always)
    static func addBiasResidualReLU(_ d: UnsafeMutablePointer<Float>, count: Int, bias: Float,
                                    residual r: UnsafePointer<Float>?, relu: Bool) {
        let vb = Lanes(repeating: bias)
        var i = 0
        while i + 8 <= count {
            var v = load(d + i) + vb
            if let r { v += load(r + i) }
            if relu { v = v.replacing(with: 0, where: v .< 0) }
            store(v, d + i)
            i += 8
        }
        while i < count {
            var v = d[i] + bias
            if let r { v += r[i] }
            d[i] = relu && v < 0 ? 0 : v
            i += 1
        }
    }

    /// d[i] = max(x[i]·a + b, 0) (a NaN passes, as in ReLU): batch-norm fused with its ReLU.
    @inline(__always)
    static func affineReLU(_ d: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ a: Float, _ b: Float, count: Int) {
        let va = Lanes(repeating: a), vb = Lanes(repeating: b)
        var i = 0
        while i + 8 <= count {
            let v = load(x + i) * va + vb
            store(v.replacing(with: 0, where: v .< 0), d + i)
            i += 8
        }
        while i < count { let v = x[i] * a + b; d[i] = v < 0 ? 0 : v; i += 1 }
    }

    /// d[i] = max(x[i]·a + b + r[i], 0): batch-norm, the residual connection and the ReLU of a
    /// ResNet block's end in one pass.
    @inline(__always)
    static func affineAddReLU(_ d: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ r: UnsafePointer<Float>,
                              _ a: Float, _ b: Float, count: Int) {
        let va = Lanes(repeating: a), vb = Lanes(repeating: b)
        var i = 0
        while i + 8 <= count {
            let v = load(x + i) * va + vb + load(r + i)
            store(v.replacing(with: 0, where: v .< 0), d + i)
            i += 8
        }
        while i < count { let v = x[i] * a + b + r[i]; d[i] = v < 0 ? 0 : v; i += 1 }
    }

    /// d[i] = scale · (g[i]·[y[i] > 0] − meanG − (x[i] − mean)·slope): batch-norm's input gradient
    /// (training; evaluation has meanG = slope = 0) behind a fused ReLU with output y.
    @inline(__always)
    static func maskedNormalizationGradient(_ d: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                            _ y: UnsafePointer<Float>, count: Int, scale: Float, meanG: Float, mean: Float, slope: Float) {
        let vk = Lanes(repeating: scale), vm = Lanes(repeating: meanG), vc = Lanes(repeating: mean), vs = Lanes(repeating: slope)
        var i = 0
        while i + 8 <= count {
            let gi = Lanes.zero.replacing(with: load(g + i), where: load(y + i) .> 0)
            store(vk * (gi - vm - (load(x + i) - vc) * vs), d + i)
            i += 8
        }
        while i < count {
            let gi: Float = y[i] > 0 ? g[i] : 0
            d[i] = scale * (gi - meanG - (x[i] - mean) * slope)
            i += 1
        }
    }
}
