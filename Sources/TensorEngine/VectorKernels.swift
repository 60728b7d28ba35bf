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
        var sumG = 0.0, sumGX = 0.0
        var start = 0
        while start < count {
            let end = min(count, start + block)
            var s = Lanes.zero, sx = Lanes.zero
            let center = Lanes(repeating: mean)
            var i = start
            while i + 8 <= end {
                let gi = load(g + i)
                s += gi
                sx += gi * (load(x + i) - center)
                i += 8
            }
            var tail: Float = 0, tailX: Float = 0
            while i < end { tail += g[i]; tailX += g[i] * (x[i] - mean); i += 1 }
            sumG += Double(s.sum()) + Double(tail)
            sumGX += Double(sx.sum()) + Double(tailX)
            start = end
        }
        return (sumG, sumGX)
    }
}
