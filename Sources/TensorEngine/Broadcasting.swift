/// NumPy/PyTorch broadcasting: shapes align on the right, and a dimension of 1
/// (or a missing one) stretches to the other's size.
enum Broadcasting {
    static func shape(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        if a == b { return a }
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard da == db || da == 1 || db == 1 else {
                throw TensorError.shapeMismatch(op: op, shapes: [a, b],
                                                reason: "dimension \(i) is \(da) and \(db) (broadcasting needs equal sizes or 1)")
            }
            out[i] = max(da, db)
        }
        return out
    }

    /// Element strides of `shape` seen as `outShape`: 0 along broadcast dimensions.
    static func strides(of shape: [Int], in outShape: [Int]) -> [Int] {
        let offset = outShape.count - shape.count
        var strides = [Int](repeating: 0, count: outShape.count)
        var running = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i + offset] = shape[i] == 1 ? 0 : running
            running *= shape[i]
        }
        return strides
    }

    /// Walks `outShape` row by row (the last dimension is the inner run), giving the
    /// starting offsets of the output and of each operand, and each operand's inner stride.
    static func forEachRow(_ outShape: [Int], _ operandStrides: [[Int]],
                           _ body: (_ out: Int, _ offsets: [Int], _ length: Int, _ innerStrides: [Int]) -> Void) {
        let total = outShape.reduce(1, *)
        guard total > 0 else { return }
        guard let inner = outShape.last else {
            body(0, operandStrides.map { _ in 0 }, 1, operandStrides.map { _ in 0 })
            return
        }
        let innerStrides = operandStrides.map { $0.last! }
        let outerRank = outShape.count - 1
        var index = [Int](repeating: 0, count: outerRank)
        var offsets = [Int](repeating: 0, count: operandStrides.count)
        var out = 0
        while out < total {
            body(out, offsets, inner, innerStrides)
            out += inner
            // Odometer over the outer dimensions.
            var d = outerRank - 1
            while d >= 0 {
                index[d] += 1
                for k in 0..<offsets.count { offsets[k] += operandStrides[k][d] }
                if index[d] < outShape[d] { break }
                for k in 0..<offsets.count { offsets[k] -= operandStrides[k][d] * outShape[d] }
                index[d] = 0
                d -= 1
            }
        }
    }

    /// Sums `g` (of a broadcast result's shape) down to `shape`: the gradient of broadcasting.
    static func reduce(_ g: Tensor, to shape: [Int]) -> Tensor {
        if g.shape == shape { return g }
        let result = Storage(count: shape.reduce(1, *))
        let dst = result.pointer, src = g.pointer
        let strides = strides(of: shape, in: g.shape)
        forEachRow(g.shape, [strides]) { out, offsets, length, inner in
            var o = offsets[0]
            if inner[0] == 0 {
                var s: Float = 0
                for j in 0..<length { s += src[out + j] }
                dst[o] += s
            } else {
                for j in 0..<length { dst[o] += src[out + j]; o += 1 }
            }
        }
        return Tensor(shape: shape, storage: result)
    }

    /// Repeats `g` along the dimensions where `shape` is larger: the gradient of a sum.
    static func expand(_ g: Tensor, to shape: [Int]) -> Tensor {
        if g.shape == shape { return g }
        let result = Storage(uninitializedCount: shape.reduce(1, *))
        let dst = result.pointer, src = g.pointer
        let strides = strides(of: g.shape, in: shape)
        forEachRow(shape, [strides]) { out, offsets, length, inner in
            let o = offsets[0], step = inner[0]
            for j in 0..<length { dst[out + j] = src[o + j * step] }
        }
        return Tensor(shape: shape, storage: result)
    }
}
