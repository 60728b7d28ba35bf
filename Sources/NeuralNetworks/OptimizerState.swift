import TensorEngine

/// An optimizer's per-parameter state as named tensors, so a checkpoint of a running trial can
/// carry it and a resumed run takes the very steps an uninterrupted one would. Names are
/// `<slot>/<parameter name>`; Adam's step counts are one-element tensors (exact below 2^24).
public protocol OptimizerStateful: Optimizer {
    func stateTensors() -> [(String, Tensor)]
    /// Restores what `stateTensors` gave; an unknown name or a wrong shape is an error naming it.
    func loadState(_ tensors: [String: Tensor]) throws
}

extension Optimizer {
    /// Every parameter with its name, in group order.
    var namedParameters: [(String, Tensor)] { groups.flatMap(\.parameters) }

    /// Copies `source` into a new tensor of `shape`.
    static func snapshot(_ source: Storage, shape: [Int]) -> Tensor {
        Tensor(shape: shape) { $0.baseAddress!.update(from: source.pointer, count: source.count) }
    }

    /// The named parameter a state tensor belongs to, checked against the tensor's shape.
    func parameter(for name: String, slot: String, in tensors: [String: Tensor], shape: (Tensor) -> [Int]) throws -> [(Tensor, Tensor)] {
        var found: [(Tensor, Tensor)] = []
        let byName = Dictionary(namedParameters, uniquingKeysWith: { first, _ in first })
        for (key, value) in tensors where key.hasPrefix(slot + "/") {
            let parameterName = String(key.dropFirst(slot.count + 1))
            guard let p = byName[parameterName] else {
                throw TensorError.checkpoint(path: name, tensor: key, reason: "no parameter \(parameterName) in the optimizer")
            }
            guard value.shape == shape(p) else {
                throw TensorError.checkpoint(path: name, tensor: key, reason: "shape \(value.shape), expected \(shape(p))")
            }
            found.append((p, value))
        }
        return found
    }
}
