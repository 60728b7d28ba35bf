/// Reshape, permute, concatenation and batch slicing: forward and backward.
enum ShapeOps {
    static func permute(_ x: Tensor, _ order: [Int]) throws -> Tensor {
        try require(order.sorted() == Array(0..<x.rank),
                    .invalidArgument(op: "permute", reason: "\(order) is not a permutation of the \(x.rank) dimensions of \(x.shape)"))
        let outShape = order.map { x.shape[$0] }
        // Strides of the input, visited in output order.
        var inStrides = [Int](repeating: 1, count: x.rank)
        for d in stride(from: x.rank - 2, through: 0, by: -1) { inStrides[d] = inStrides[d + 1] * x.shape[d + 1] }
        let permutedStrides = order.map { inStrides[$0] }
        let out = Storage(uninitializedCount: x.count)
        let src = x.pointer, dst = out.pointer
        Broadcasting.forEachRow(outShape, [permutedStrides]) { o, offsets, length, inner in
            let s = offsets[0], step = inner[0]
            for j in 0..<length { dst[o + j] = src[s + j * step] }
        }
        return Tensor.result(shape: outShape, storage: out, op: .permute(x, order), inputs: x)
    }

    static func permuteBackward(_ g: Tensor, _ order: [Int]) -> Tensor {
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, d) in order.enumerated() { inverse[d] = i }
        return try! Tape.withoutRecording { try permute(g, inverse) }
    }

    static func concat(_ parts: [Tensor], axis: Int) throws -> Tensor {
        guard let first = parts.first else { throw TensorError.invalidArgument(op: "concat", reason: "no tensors to concatenate") }
        try require(axis >= 0 && axis < first.rank, .invalidArgument(op: "concat", reason: "axis \(axis) out of range for \(first.shape)"))
        for p in parts {
            var a = p.shape, b = first.shape
            guard a.count == b.count else {
                throw TensorError.shapeMismatch(op: "concat", shapes: [first.shape, p.shape], reason: "ranks differ")
            }
            a[axis] = 0; b[axis] = 0
            try require(a == b, .shapeMismatch(op: "concat", shapes: [first.shape, p.shape], reason: "sizes differ outside axis \(axis)"))
        }
        var outShape = first.shape
        outShape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        let outer = first.shape[..<axis].reduce(1, *)
        let inner = first.shape[(axis + 1)...].reduce(1, *)
        let out = Storage(uninitializedCount: outShape.reduce(1, *))
        let rowLength = outShape[axis] * inner
        var offset = 0
        for p in parts {
            let block = p.shape[axis] * inner
            for o in 0..<outer { (out.pointer + o * rowLength + offset).update(from: p.pointer + o * block, count: block) }
            offset += block
        }
        return Tensor.result(shape: outShape, storage: out, op: .concat(parts, axis: axis), anyOf: parts)
    }

    static func concatBackward(_ g: Tensor, _ parts: [Tensor], _ axis: Int) -> [(Tensor, Tensor)] {
        let outer = g.shape[..<axis].reduce(1, *)
        let inner = g.shape[(axis + 1)...].reduce(1, *)
        let rowLength = g.shape[axis] * inner
        var offset = 0
        var grads: [(Tensor, Tensor)] = []
        for p in parts {
            let block = p.shape[axis] * inner
            if p.requiresGrad {
                let d = Storage(uninitializedCount: p.count)
                for o in 0..<outer { (d.pointer + o * block).update(from: g.pointer + o * rowLength + offset, count: block) }
                grads.append((p, Tensor(shape: p.shape, storage: d)))
            }
            offset += block
        }
        return grads
    }

    static func slice(_ x: Tensor, rows: Range<Int>) throws -> Tensor {
        try require(x.rank >= 1 && rows.lowerBound >= 0 && rows.upperBound <= x.shape[0],
                    .invalidArgument(op: "slice", reason: "rows \(rows) out of range for \(x.shape)"))
        let rowSize = x.shape.dropFirst().reduce(1, *)
        var shape = x.shape
        shape[0] = rows.count
        let out = Storage(uninitializedCount: rows.count * rowSize)
        out.pointer.update(from: x.pointer + rows.lowerBound * rowSize, count: out.count)
        return Tensor.result(shape: shape, storage: out, op: .slice(x, rows: rows), inputs: x)
    }

    static func sliceBackward(_ g: Tensor, _ x: Tensor, _ rows: Range<Int>) -> Tensor {
        let rowSize = x.shape.dropFirst().reduce(1, *)
        let d = Storage(count: x.count)
        (d.pointer + rows.lowerBound * rowSize).update(from: g.pointer, count: g.count)
        return Tensor(shape: x.shape, storage: d)
    }
}

extension Tensor {
    /// The same values in a new shape (shares storage); one dimension may be -1.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var resolved = newShape
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        if let i = newShape.firstIndex(of: -1) {
            try require(newShape.filter { $0 == -1 }.count == 1 && known > 0 && count % known == 0,
                        .shapeMismatch(op: "reshape", shapes: [shape, newShape], reason: "cannot infer the -1 dimension"))
            resolved[i] = count / known
        }
        try require(resolved.allSatisfy { $0 >= 0 } && resolved.reduce(1, *) == count,
                    .shapeMismatch(op: "reshape", shapes: [shape, newShape], reason: "element counts differ"))
        return Tensor.result(shape: resolved, storage: storage, op: .reshape(self), inputs: self)
    }

    /// (N, ...) -> (N, product of the rest), in C,H,W order as PyTorch's flatten(1).
    public func flattened() throws -> Tensor {
        try require(rank >= 1, .shapeMismatch(op: "flatten", shapes: [shape], reason: "needs at least one dimension"))
        return try reshaped([shape[0], shape.dropFirst().reduce(1, *)])
    }

    /// Reorders dimensions (a copy).
    public func permuted(_ order: [Int]) throws -> Tensor { try ShapeOps.permute(self, order) }

    /// Swaps the two dimensions of a matrix.
    public func transposed() throws -> Tensor {
        try require(rank == 2, .shapeMismatch(op: "transpose", shapes: [shape], reason: "needs a matrix"))
        return try permuted([1, 0])
    }

    /// Rows `rows` along the first (batch) dimension (a copy).
    public func slice(rows: Range<Int>) throws -> Tensor { try ShapeOps.slice(self, rows: rows) }

    /// Joins tensors along `axis`.
    public static func concat(_ parts: [Tensor], axis: Int = 0) throws -> Tensor { try ShapeOps.concat(parts, axis: axis) }
}
