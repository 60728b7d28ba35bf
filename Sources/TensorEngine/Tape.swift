import Synchronization

/// The autodiff tape.
///
/// Every op run while recording is on, with an input that requires a gradient,
/// gives its output a `producer` and the next index on the tape. `backward()`
/// gathers the recorded ops reachable from the loss and replays them in
/// reverse tape order, so each op's output gradient is complete before its
/// backward runs. Nothing global is kept between steps: when the loss and its
/// intermediates go out of scope, so does their part of the tape.
public enum Tape {
    private static let counter = Atomic<UInt64>(1)

    static func nextIndex() -> UInt64 {
        counter.add(1, ordering: .relaxed).newValue
    }

    private static let recording = ThreadLocal(true)

    /// Whether ops record themselves on the tape on this thread.
    public static var isRecording: Bool { recording.value }

    /// Runs `body` without recording: outputs carry no gradient history (inference, attacks' bookkeeping).
    public static func withoutRecording<T>(_ body: () throws -> T) rethrows -> T {
        try recording.withValue(false, body)
    }

}

/// Runs `body` with gradient recording off (PyTorch's `torch.no_grad()`).
public func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
    try Tape.withoutRecording(body)
}

extension Tensor {
    /// Builds an op's output: recorded on the tape when an input requires a gradient.
    static func result(shape: [Int], storage: Storage, op: @autoclosure () -> Op, inputs: Tensor?...) -> Tensor {
        result(shape: shape, storage: storage, op: op(), anyOf: inputs)
    }

    static func result(shape: [Int], storage: Storage, op: @autoclosure () -> Op, anyOf inputs: [Tensor?]) -> Tensor {
        var recording = false
        if Tape.isRecording {
            for case let input? in inputs where input.requiresGrad { recording = true; break }
        }
        return recording
            ? Tensor(shape: shape, storage: storage, requiresGrad: true, producer: op())
            : Tensor(shape: shape, storage: storage)
    }

    /// Back-propagates from this tensor (a scalar loss unless `seed` is given) and
    /// accumulates gradients into `.grad` of every leaf that requires one.
    ///
    /// `onGradientFinal(leaf)` is called, during the backward pass, as soon as no remaining op
    /// will add to that leaf's gradient: a data-parallel trainer starts sending the last layers'
    /// gradients while the first layers' are still being computed.
    public func backward(seed: Tensor? = nil, onGradientFinal: ((Tensor) -> Void)? = nil) throws {
        let start: Tensor
        if let seed {
            try require(seed.shape == shape, .shapeMismatch(op: "backward", shapes: [shape, seed.shape],
                                                             reason: "seed gradient must have the output's shape"))
            start = seed
        } else {
            try require(count == 1, .invalidArgument(op: "backward",
                                                     reason: "needs a scalar loss or an explicit seed, shape is \(shape)"))
            start = Tensor(repeating: 1, shape: shape)
        }
        guard requiresGrad else {
            throw TensorError.invalidArgument(op: "backward", reason: "the tensor does not require a gradient (nothing recorded)")
        }

        // Gather the recorded part of the graph reachable from here: that is the tape to replay.
        var recorded: [Tensor] = []
        var seen = Set<ObjectIdentifier>()
        var stack: [Tensor] = [self]
        while let t = stack.popLast() {
            guard t.producer != nil, seen.insert(ObjectIdentifier(t)).inserted else { continue }
            recorded.append(t)
            for input in t.producer!.inputs where input.requiresGrad { stack.append(input) }
        }
        recorded.sort { $0.tapeIndex > $1.tapeIndex }

        // With a hook: how many uses by recorded ops each leaf has left (an op using a leaf twice counts twice).
        var usesLeft: [ObjectIdentifier: Int] = [:]
        if onGradientFinal != nil {
            for t in recorded {
                for input in t.producer!.inputs where input.requiresGrad && input.producer == nil {
                    usesLeft[ObjectIdentifier(input), default: 0] += 1
                }
            }
        }

        var pending: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): start]
        for t in recorded {
            if let gradOut = pending.removeValue(forKey: ObjectIdentifier(t)) {
                for (input, g) in try t.producer!.backward(gradOutput: gradOut, output: t) where input.requiresGrad {
                    if input.producer == nil {
                        input.accumulateGrad(g)
                    } else {
                        let key = ObjectIdentifier(input)
                        // Never add in place: an op may hand the same gradient buffer to several inputs.
                        pending[key] = pending[key].map { Kernels.add($0, g) } ?? g
                    }
                }
            }
            if let onGradientFinal {
                for input in t.producer!.inputs where input.requiresGrad && input.producer == nil {
                    let key = ObjectIdentifier(input)
                    let left = usesLeft[key, default: 1] - 1
                    usesLeft[key] = left
                    if left == 0 { onGradientFinal(input) }
                }
            }
        }
        if producer == nil { accumulateGrad(start) }
    }

    /// `grad += g`, owning its buffer (the incoming one may be shared).
    func accumulateGrad(_ g: Tensor) {
        if let grad {
            Kernels.addInPlace(grad.storage, g.storage)
        } else {
            grad = Tensor(shape: shape, storage: g.storage.copy())
        }
    }
}

/// Gradients of `output` with respect to `inputs`, without touching `.grad` of anything else.
/// Parameters keep their own `.grad` untouched only if they do not require gradients;
/// attacks freeze the model first, so this is the input gradient alone.
public func gradients(of output: Tensor, withRespectTo inputs: [Tensor]) throws -> [Tensor] {
    let saved = inputs.map { $0.grad }
    for input in inputs { input.grad = nil }
    try output.backward()
    defer { for (input, grad) in zip(inputs, saved) { input.grad = grad } }
    return inputs.map { $0.grad ?? Tensor(zeros: $0.shape) }
}
