/// Broadcasting add, subtract, multiply and divide: forward and backward.
enum Elementwise {
    enum Kind: String { case add, subtract, multiply, divide }

    static func forward(_ kind: Kind, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let shape = try Broadcasting.shape(a.shape, b.shape, op: kind.rawValue)
        let out = Storage(uninitializedCount: shape.reduce(1, *))
        let dst = out.pointer, pa = a.pointer, pb = b.pointer
        if a.shape == b.shape {
            Parallel.forEachChunk(out.count, grain: Parallel.elementwiseGrain) { _, r in
                row(kind, dst + r.lowerBound, pa + r.lowerBound, 1, pb + r.lowerBound, 1, r.count)
            }
        } else {
            let strides = [Broadcasting.strides(of: a.shape, in: shape), Broadcasting.strides(of: b.shape, in: shape)]
            Broadcasting.forEachRow(shape, strides) { o, offsets, length, inner in
                row(kind, dst + o, pa + offsets[0], inner[0], pb + offsets[1], inner[1], length)
            }
        }
        let op: Op
        switch kind {
        case .add: op = .add(a, b)
        case .subtract: op = .subtract(a, b)
        case .multiply: op = .multiply(a, b)
        case .divide: op = .divide(a, b)
        }
        return Tensor.result(shape: shape, storage: out, op: op, inputs: a, b)
    }

    @inline(__always)
    private static func row(_ kind: Kind, _ d: UnsafeMutablePointer<Float>,
                            _ a: UnsafePointer<Float>, _ sa: Int,
                            _ b: UnsafePointer<Float>, _ sb: Int, _ n: Int) {
        switch (kind, sa, sb) {
        case (.add, 1, 1): for i in 0..<n { d[i] = a[i] + b[i] }
        case (.subtract, 1, 1): for i in 0..<n { d[i] = a[i] - b[i] }
        case (.multiply, 1, 1): for i in 0..<n { d[i] = a[i] * b[i] }
        case (.divide, 1, 1): for i in 0..<n { d[i] = a[i] / b[i] }
        case (.add, 1, 0): let c = b[0]; for i in 0..<n { d[i] = a[i] + c }
        case (.subtract, 1, 0): let c = b[0]; for i in 0..<n { d[i] = a[i] - c }
        case (.multiply, 1, 0): let c = b[0]; for i in 0..<n { d[i] = a[i] * c }
        case (.divide, 1, 0): let c = b[0]; for i in 0..<n { d[i] = a[i] / c }
        default:
            switch kind {
            case .add: for i in 0..<n { d[i] = a[i * sa] + b[i * sb] }
            case .subtract: for i in 0..<n { d[i] = a[i * sa] - b[i * sb] }
            case .multiply: for i in 0..<n { d[i] = a[i * sa] * b[i * sb] }
            case .divide: for i in 0..<n { d[i] = a[i * sa] / b[i * sb] }
            }
        }
    }

    // d(a+b) = g, g
    static func addBackward(_ g: Tensor, _ a: Tensor, _ b: Tensor) -> [(Tensor, Tensor)] {
        var grads: [(Tensor, Tensor)] = []
        if a.requiresGrad { grads.append((a, Broadcasting.reduce(g, to: a.shape))) }
        if b.requiresGrad { grads.append((b, Broadcasting.reduce(g, to: b.shape))) }
        return grads
    }

    // d(a-b) = g, -g
    static func subtractBackward(_ g: Tensor, _ a: Tensor, _ b: Tensor) -> [(Tensor, Tensor)] {
        var grads: [(Tensor, Tensor)] = []
        if a.requiresGrad { grads.append((a, Broadcasting.reduce(g, to: a.shape))) }
        if b.requiresGrad { grads.append((b, Broadcasting.reduce(Unary.scaleBackward(g, -1), to: b.shape))) }
        return grads
    }

    // d(a*b) = g*b, g*a
    static func multiplyBackward(_ g: Tensor, _ a: Tensor, _ b: Tensor) -> [(Tensor, Tensor)] {
        var grads: [(Tensor, Tensor)] = []
        if a.requiresGrad { grads.append((a, Broadcasting.reduce(untracked(.multiply, g, b), to: a.shape))) }
        if b.requiresGrad { grads.append((b, Broadcasting.reduce(untracked(.multiply, g, a), to: b.shape))) }
        return grads
    }

    // d(a/b) = g/b, -g*y/b  (y = a/b)
    static func divideBackward(_ g: Tensor, _ a: Tensor, _ b: Tensor, _ y: Tensor) -> [(Tensor, Tensor)] {
        var grads: [(Tensor, Tensor)] = []
        let gOverB = untracked(.divide, g, b)
        if a.requiresGrad { grads.append((a, Broadcasting.reduce(gOverB, to: a.shape))) }
        if b.requiresGrad {
            let gb = untracked(.multiply, gOverB, y)
            grads.append((b, Broadcasting.reduce(Unary.scaleBackward(gb, -1), to: b.shape)))
        }
        return grads
    }

    /// The op on values only (backward passes never record).
    static func untracked(_ kind: Kind, _ a: Tensor, _ b: Tensor) -> Tensor {
        // Shapes were checked by the forward pass that recorded this op.
        try! Tape.withoutRecording { try forward(kind, a, b) }
    }
}

extension Tensor {
    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try Elementwise.forward(.add, a, b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try Elementwise.forward(.subtract, a, b) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try Elementwise.forward(.multiply, a, b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try Elementwise.forward(.divide, a, b) }

    /// Broadcasts to `shape` (a copy; its gradient sums back).
    public func broadcast(to shape: [Int]) throws -> Tensor {
        let target = try Broadcasting.shape(self.shape, shape, op: "broadcast")
        try require(target == shape, .shapeMismatch(op: "broadcast", shapes: [self.shape, shape],
                                                    reason: "cannot broadcast to a smaller shape"))
        let out = Broadcasting.expand(detached(), to: shape)
        return Tensor.result(shape: shape, storage: out.storage, op: .broadcast(self), inputs: self)
    }
}

enum Kernels {

    /// a + b for equal shapes, untracked.
    static func add(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = Storage(uninitializedCount: a.count)
        let d = out.pointer, pa = a.pointer, pb = b.pointer
        for i in 0..<a.count { d[i] = pa[i] + pb[i] }
        return Tensor(shape: a.shape, storage: out)
    }

    /// a += b for storages of equal size.
    static func addInPlace(_ a: Storage, _ b: Storage) {
        let pa = a.pointer, pb = b.pointer
        for i in 0..<a.count { pa[i] += pb[i] }
    }
}
