/// Every differentiable primitive of the engine, with what its backward needs.
///
/// One enum (as in candle) so that `backward` below is an exhaustive switch: an
/// op added without a gradient does not compile. Each case's forward and
/// backward live side by side in the op's own file (Ops/*.swift).
enum Op {
    // Elementwise, with NumPy broadcasting (Ops/Elementwise.swift)
    case add(Tensor, Tensor)
    case subtract(Tensor, Tensor)
    case multiply(Tensor, Tensor)
    case divide(Tensor, Tensor)
    case broadcast(Tensor)

    // Unary and scalar (Ops/Unary.swift)
    case scale(Tensor, Float)
    case shift(Tensor)
    case power(Tensor, Float)
    case squareRoot(Tensor)
    case exponential(Tensor)
    case logarithm(Tensor)
    case absolute(Tensor)
    case sign(Tensor)
    case relu(Tensor)
    case clamp(Tensor, min: Float, max: Float)

    // Linear algebra (Ops/Matmul.swift)
    case matmul(Tensor, Tensor)
    case linear(input: Tensor, weight: Tensor, bias: Tensor?)

    // Convolution, pooling, normalization (Ops/Conv2d.swift, Ops/Pooling.swift, Ops/BatchNorm.swift)
    case conv2d(input: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor?, relu: Bool, Conv2dGeometry)
    case maxPool2d(Tensor, argmax: IndexBuffer, Pool2dGeometry)
    case avgPool2d(Tensor, Pool2dGeometry)
    case globalAvgPool(Tensor)
    case batchNorm(input: Tensor, weight: Tensor, bias: Tensor, residual: Tensor?, BatchNormSaved)

    // Shape (Ops/Shape.swift)
    case reshape(Tensor)
    case permute(Tensor, [Int])
    case concat([Tensor], axis: Int)
    case slice(Tensor, rows: Range<Int>)

    // Resampling (Ops/Resampling.swift)
    case resizeBilinear(Tensor)
    case pad2d(Tensor, top: Int, left: Int)

    // Reductions (Ops/Reduction.swift)
    case sumToShape(Tensor)

    // Softmax and losses (Ops/Softmax.swift, Ops/Losses.swift)
    case logSoftmax(Tensor)
    case softmax(Tensor)
    case crossEntropy(logits: Tensor, labels: [Int32], probabilities: Storage)
    case klDivergence(logInput: Tensor, target: Tensor)

    var inputs: [Tensor] {
        switch self {
        case let .add(a, b), let .subtract(a, b), let .multiply(a, b), let .divide(a, b), let .matmul(a, b):
            return [a, b]
        case let .broadcast(x), let .scale(x, _), let .shift(x), let .power(x, _), let .squareRoot(x),
             let .exponential(x), let .logarithm(x), let .absolute(x), let .sign(x), let .relu(x),
             let .clamp(x, _, _), let .maxPool2d(x, _, _), let .avgPool2d(x, _), let .globalAvgPool(x),
             let .reshape(x), let .permute(x, _), let .slice(x, _), let .resizeBilinear(x), let .pad2d(x, _, _), let .sumToShape(x), let .logSoftmax(x),
             let .softmax(x), let .crossEntropy(x, _, _):
            return [x]
        case let .linear(x, w, b):
            return b.map { [x, w, $0] } ?? [x, w]
        case let .conv2d(x, w, b, r, _, _):
            return [x, w] + (b.map { [$0] } ?? []) + (r.map { [$0] } ?? [])
        case let .batchNorm(x, w, b, r, _):
            return r.map { [x, w, b, $0] } ?? [x, w, b]
        case let .concat(parts, _):
            return parts
        case let .klDivergence(a, b):
            return [a, b]
        }
    }

    /// The gradients of the op's inputs given the gradient of its output.
    /// Inputs that do not require a gradient may be skipped (their weight-gradient GEMMs are not run).
    func backward(gradOutput g: Tensor, output y: Tensor) throws -> [(Tensor, Tensor)] {
        switch self {
        case let .add(a, b): return Elementwise.addBackward(g, a, b)
        case let .subtract(a, b): return Elementwise.subtractBackward(g, a, b)
        case let .multiply(a, b): return Elementwise.multiplyBackward(g, a, b)
        case let .divide(a, b): return Elementwise.divideBackward(g, a, b, y)
        case let .broadcast(x): return [(x, Broadcasting.reduce(g, to: x.shape))]
        case let .scale(x, c): return [(x, Unary.scaleBackward(g, c))]
        case let .shift(x): return [(x, g)]
        case let .power(x, p): return [(x, Unary.powerBackward(g, x, p))]
        case let .squareRoot(x): return [(x, Unary.squareRootBackward(g, y))]
        case let .exponential(x): return [(x, Unary.multiplyElementwise(g, y))]
        case let .logarithm(x): return [(x, Unary.logarithmBackward(g, x))]
        case let .absolute(x): return [(x, Unary.absoluteBackward(g, x))]
        case let .sign(x): return [(x, Tensor(zeros: x.shape))]
        case let .relu(x): return [(x, Unary.reluBackward(g, y))]
        case let .clamp(x, lo, hi): return [(x, Unary.clampBackward(g, x, lo, hi))]
        case let .matmul(a, b): return Matmul.matmulBackward(g, a, b)
        case let .linear(x, w, b): return Matmul.linearBackward(g, x, w, b)
        case let .conv2d(x, w, b, r, relu, geometry):
            return Conv2d.backward(g, x, w, b, residual: r, relu: relu, geometry, output: y)
        case let .maxPool2d(x, argmax, geometry): return [(x, Pooling.maxPoolBackward(g, x, argmax, geometry))]
        case let .avgPool2d(x, geometry): return [(x, Pooling.avgPoolBackward(g, x, geometry))]
        case let .globalAvgPool(x): return [(x, Pooling.globalAvgPoolBackward(g, x))]
        case let .batchNorm(x, w, b, r, saved): return BatchNorm.backward(g, x, w, b, residual: r, saved, output: y)
        case let .reshape(x): return [(x, Tensor(shape: x.shape, storage: g.storage))]
        case let .permute(x, order): return [(x, ShapeOps.permuteBackward(g, order))]
        case let .concat(parts, axis): return ShapeOps.concatBackward(g, parts, axis)
        case let .slice(x, rows): return [(x, ShapeOps.sliceBackward(g, x, rows))]
        case let .resizeBilinear(x): return [(x, Resampling.resizeBilinearBackward(g, x))]
        case let .pad2d(x, top, left): return [(x, Resampling.padBackward(g, x, top: top, left: left))]
        case let .sumToShape(x): return [(x, Broadcasting.expand(g, to: x.shape))]
        case let .logSoftmax(x): return [(x, Softmax.logSoftmaxBackward(g, y))]
        case let .softmax(x): return [(x, Softmax.softmaxBackward(g, y))]
        case let .crossEntropy(x, labels, p): return [(x, Losses.crossEntropyBackward(g, x, labels, p))]
        case let .klDivergence(logq, p): return Losses.klDivergenceBackward(g, logq, p)
        }
    }
}
