import Foundation

/// Elementwise unary and tensor-scalar ops: forward and backward.
enum Unary {
    @inline(__always)
    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Storage {
        let out = Storage(uninitializedCount: x.count)
        let d = out.pointer, s = x.pointer
        Parallel.forEachChunk(x.count, grain: Parallel.elementwiseGrain) { _, range in
            for i in range { d[i] = f(s[i]) }
        }
        return out
    }

    @inline(__always)
    static func zip(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let out = Storage(uninitializedCount: a.count)
        let d = out.pointer, pa = a.pointer, pb = b.pointer
        Parallel.forEachChunk(a.count, grain: Parallel.elementwiseGrain) { _, range in
            for i in range { d[i] = f(pa[i], pb[i]) }
        }
        return Tensor(shape: a.shape, storage: out)
    }

    static func scaleBackward(_ g: Tensor, _ c: Float) -> Tensor { Tensor(shape: g.shape, storage: map(g) { $0 * c }) }
    static func multiplyElementwise(_ g: Tensor, _ y: Tensor) -> Tensor { zip(g, y) { $0 * $1 } }
    // d x^p = p x^(p-1)
    static func powerBackward(_ g: Tensor, _ x: Tensor, _ p: Float) -> Tensor {
        if p == 2 { return zip(g, x) { $0 * 2 * $1 } }
        return zip(g, x) { $0 * p * Foundation.pow($1, p - 1) }
    }
    // d sqrt(x) = 1 / (2 sqrt(x))
    static func squareRootBackward(_ g: Tensor, _ y: Tensor) -> Tensor { zip(g, y) { $0 / (2 * $1) } }
    static func logarithmBackward(_ g: Tensor, _ x: Tensor) -> Tensor { zip(g, x) { $0 / $1 } }
    // d|x| = sign(x) (0 at 0, as PyTorch)
    static func absoluteBackward(_ g: Tensor, _ x: Tensor) -> Tensor { zip(g, x) { $1 > 0 ? $0 : ($1 < 0 ? -$0 : 0) } }
    // ReLU is on every layer's path: its loops are written out so they vectorize, rather than
    // going through `map`/`zip`'s closure.
    static func relu(_ x: Tensor) -> Storage {
        let out = Storage(uninitializedCount: x.count)
        let d = out.pointer, s = x.pointer
        Parallel.forEachChunk(x.count, grain: Parallel.elementwiseGrain) { _, range in
            for i in range { d[i] = s[i] < 0 ? 0 : s[i] }  // NaN passes through, as in PyTorch
        }
        return out
    }

    static func reluBackward(_ g: Tensor, _ y: Tensor) -> Tensor {
        let out = Storage(uninitializedCount: g.count)
        let d = out.pointer, gp = g.pointer, yp = y.pointer
        Parallel.forEachChunk(g.count, grain: Parallel.elementwiseGrain) { _, range in
            VectorKernels.passWherePositive(d + range.lowerBound, gp + range.lowerBound, yp + range.lowerBound, count: range.count)
        }
        return Tensor(shape: g.shape, storage: out)
    }
    // The gradient passes where min <= x <= max (PyTorch's clamp).
    static func clampBackward(_ g: Tensor, _ x: Tensor, _ lo: Float, _ hi: Float) -> Tensor {
        zip(g, x) { ($1 >= lo && $1 <= hi) ? $0 : 0 }
    }
}

extension Tensor {
    private func unary(_ op: @autoclosure () -> Op, _ f: (Float) -> Float) -> Tensor {
        Tensor.result(shape: shape, storage: Unary.map(self, f), op: op(), inputs: self)
    }

    public static func * (a: Tensor, c: Float) -> Tensor { a.unary(.scale(a, c)) { $0 * c } }
    public static func * (c: Float, a: Tensor) -> Tensor { a * c }
    public static func / (a: Tensor, c: Float) -> Tensor { a * (1 / c) }
    public static func + (a: Tensor, c: Float) -> Tensor { a.unary(.shift(a)) { $0 + c } }
    public static func - (a: Tensor, c: Float) -> Tensor { a + (-c) }
    public static prefix func - (a: Tensor) -> Tensor { a * -1 }

    public func pow(_ p: Float) -> Tensor {
        if p == 2 { return unary(.power(self, p)) { $0 * $0 } }
        return unary(.power(self, p)) { Foundation.pow($0, p) }
    }
    public func sqrt() -> Tensor { unary(.squareRoot(self)) { $0.squareRoot() } }
    public func exp() -> Tensor { unary(.exponential(self)) { Foundation.exp($0) } }
    public func log() -> Tensor { unary(.logarithm(self)) { Foundation.log($0) } }
    public func abs() -> Tensor { unary(.absolute(self)) { Swift.abs($0) } }
    /// -1, 0 or 1; its gradient is zero (FGSM uses the sign of a gradient, not through it).
    public func sign() -> Tensor { unary(.sign(self)) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) } }
    public func relu() -> Tensor { Tensor.result(shape: shape, storage: Unary.relu(self), op: .relu(self), inputs: self) }
    public func clamp(min lo: Float, max hi: Float) -> Tensor {
        unary(.clamp(self, min: lo, max: hi)) { Swift.min(Swift.max($0, lo), hi) }
    }
}
