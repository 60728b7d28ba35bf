import Foundation

/// A contiguous Float32 tensor (images are NCHW) that can take part in reverse-mode autodiff.
///
/// A tensor is a reference, like a PyTorch tensor: optimizers update parameters
/// in place, and `grad` accumulates with `+=` across `backward()` calls until
/// `zeroGrad()`. A tensor made by an op while gradients are recorded keeps the
/// op (`producer`) and its inputs alive, which is the tape that `backward()` replays.
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let storage: Storage
    /// Leaves with `requiresGrad` receive `.grad` from `backward()`; ops set it on their
    /// outputs when any input requires a gradient and recording is on.
    public var requiresGrad: Bool
    public var grad: Tensor?
    /// The op that produced this tensor, with what its backward needs (nil for leaves).
    let producer: Op?
    /// Position on the tape: outputs always come after their inputs.
    let tapeIndex: UInt64

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    public var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    init(shape: [Int], storage: Storage, requiresGrad: Bool = false, producer: Op? = nil) {
        precondition(shape.reduce(1, *) == storage.count, "shape \(shape) does not match \(storage.count) values")
        self.shape = shape
        self.storage = storage
        self.requiresGrad = requiresGrad
        self.producer = producer
        self.tapeIndex = producer == nil ? 0 : Tape.nextIndex()
    }

    /// A zero-filled tensor.
    public convenience init(zeros shape: [Int]) {
        self.init(shape: shape, storage: Storage(count: Tensor.elementCount(shape)))
    }

    /// A tensor filled with `value`.
    public convenience init(repeating value: Float, shape: [Int]) {
        let storage = Storage(uninitializedCount: Tensor.elementCount(shape))
        storage.pointer.initialize(repeating: value, count: storage.count)
        self.init(shape: shape, storage: storage)
    }

    /// A tensor holding `values` in row-major order; throws when the count does not match the shape.
    public convenience init(shape: [Int], values: [Float]) throws {
        let n = Tensor.elementCount(shape)
        try require(n == values.count, .shapeMismatch(op: "Tensor(shape:values:)", shapes: [shape, [values.count]],
                                                      reason: "shape holds \(n) values, \(values.count) given"))
        let storage = Storage(uninitializedCount: n)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: n) }
        self.init(shape: shape, storage: storage)
    }

    /// A tensor whose values are written by `fill` into uninitialized memory of `shape`'s size.
    public convenience init(shape: [Int], fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let storage = Storage(uninitializedCount: Tensor.elementCount(shape))
        try fill(storage.buffer)
        self.init(shape: shape, storage: storage)
    }

    /// A scalar (rank-0) tensor.
    public convenience init(scalar: Float) {
        self.init(repeating: scalar, shape: [])
    }

    static func elementCount(_ shape: [Int]) -> Int {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        return shape.reduce(1, *)
    }

    /// The values in row-major order.
    public var values: [Float] { Array(storage.buffer) }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs a one-element tensor, shape is \(shape)")
        return storage.pointer[0]
    }

    /// The same values, detached from the tape (shares storage).
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// A deep copy, detached from the tape.
    public func copy() -> Tensor { Tensor(shape: shape, storage: storage.copy()) }

    public func zeroGrad() { grad = nil }

    /// Whether every value is finite (no NaN or Inf).
    public var isFinite: Bool {
        let p = storage.pointer
        var bad = false
        for i in 0..<count where !p[i].isFinite { bad = true; break }
        return !bad
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = values.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), values: [\(shown)\(count > 8 ? ", ..." : "")])"
    }
}
