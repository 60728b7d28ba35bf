/// Sums and means. Every reduction is one primitive, "sum down to a shape whose reduced
/// dimensions are 1", whose gradient is broadcasting back (Broadcasting.expand).
enum Reduction {
    static func sum(_ x: Tensor, to shape: [Int]) -> Tensor {
        let reduced = Broadcasting.reduce(x.detached(), to: shape)
        // reduce returns its input when nothing is reduced; the op still records.
        let storage = reduced.storage === x.storage ? x.storage.copy() : reduced.storage
        return Tensor.result(shape: shape, storage: storage, op: .sumToShape(x), inputs: x)
    }

    static func keptShape(_ shape: [Int], axes: [Int], op: String) throws -> [Int] {
        var kept = shape
        for a in axes {
            let axis = a < 0 ? a + shape.count : a
            try require(axis >= 0 && axis < shape.count, .invalidArgument(op: op, reason: "axis \(a) out of range for \(shape)"))
            kept[axis] = 1
        }
        return kept
    }
}

extension Tensor {
    /// Sum of all values (a scalar).
    public func sum() -> Tensor {
        let total = Reduction.sum(self, to: shape.map { _ in 1 })
        return try! total.reshaped([])
    }

    /// Mean of all values (a scalar).
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Sum along `axes` (negative counts from the end); reduced dimensions are kept as 1 when asked.
    public func sum(axes: [Int], keepingDimensions: Bool = false) throws -> Tensor {
        let kept = try Reduction.keptShape(shape, axes: axes, op: "sum")
        let total = Reduction.sum(self, to: kept)
        if keepingDimensions { return total }
        let normalized = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
        return try total.reshaped(shape.indices.filter { !normalized.contains($0) }.map { shape[$0] })
    }

    /// Mean along `axes`.
    public func mean(axes: [Int], keepingDimensions: Bool = false) throws -> Tensor {
        let kept = try Reduction.keptShape(shape, axes: axes, op: "mean")
        let n = count / Swift.max(kept.reduce(1, *), 1)
        return try sum(axes: axes, keepingDimensions: keepingDimensions) * (1 / Float(Swift.max(n, 1)))
    }
}
