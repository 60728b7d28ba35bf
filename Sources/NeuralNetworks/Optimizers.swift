import Foundation
import TensorEngine

/// Parameters that share a learning rate and weight decay (PyTorch's param_groups):
/// fine-tuning gives the backbone and the head their own rates.
public struct ParameterGroup {
    public var parameters: [(String, Tensor)]
    /// The group's base learning rate; schedules scale it.
    public var learningRate: Float
    public var weightDecay: Float
    public init(parameters: [(String, Tensor)], learningRate: Float, weightDecay: Float = 0) {
        (self.parameters, self.learningRate, self.weightDecay) = (parameters, learningRate, weightDecay)
    }
}

/// An optimizer updates parameters in place from their `.grad`, with PyTorch's update rules.
/// Frozen parameters (no gradient) are skipped.
public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get set }
    /// Multiplies every group's base learning rate (set by a schedule each step).
    var learningRateFactor: Float { get set }
    func step()
}

extension Optimizer {
    public func zeroGrad() { for g in groups { for (_, p) in g.parameters { p.grad = nil } } }

    /// Runs `update(parameter, gradient, state, lr, weightDecay)` for every parameter with a gradient.
    fileprivate func forEachGradient(_ state: inout [ObjectIdentifier: [Storage]], slots: Int,
                                     _ update: (Tensor, Tensor, [Storage], Float, Float) -> Void) {
        for group in groups {
            let lr = group.learningRate * learningRateFactor
            for (_, p) in group.parameters {
                guard let g = p.grad else { continue }
                let key = ObjectIdentifier(p)
                let slotsForParameter = state[key] ?? (0..<slots).map { _ in Storage(count: p.count) }
                state[key] = slotsForParameter
                update(p, g, slotsForParameter, lr, group.weightDecay)
            }
        }
    }
}

/// SGD with momentum, Nesterov and L2 weight decay, as torch.optim.SGD (dampening 0):
/// d = g + wd·p;  b = μ·b + d (b = d at the first step);  d = nesterov ? d + μ·b : b;  p −= lr·d
public final class SGD: Optimizer {
    public var groups: [ParameterGroup]
    public var learningRateFactor: Float = 1
    public let momentum: Float, nesterov: Bool
    fileprivate var buffers: [ObjectIdentifier: [Storage]] = [:]
    fileprivate var started = Set<ObjectIdentifier>()

    public init(groups: [ParameterGroup], momentum: Float = 0, nesterov: Bool = false) {
        (self.groups, self.momentum, self.nesterov) = (groups, momentum, nesterov)
    }

    public func step() {
        let mu = momentum, nesterov = nesterov
        var started = self.started
        forEachGradient(&buffers, slots: momentum == 0 ? 0 : 1) { p, g, state, lr, wd in
            let pp = p.pointer, gp = g.pointer
            if mu == 0 {
                for i in 0..<p.count { pp[i] -= lr * (gp[i] + wd * pp[i]) }
                return
            }
            let b = state[0].pointer
            let first = started.insert(ObjectIdentifier(p)).inserted
            for i in 0..<p.count {
                let d = gp[i] + wd * pp[i]
                b[i] = first ? d : mu * b[i] + d
                pp[i] -= lr * (nesterov ? d + mu * b[i] : b[i])
            }
        }
        self.started = started
    }
}

extension SGD: OptimizerStateful {
    public func stateTensors() -> [(String, Tensor)] {
        namedParameters.compactMap { name, p in
            guard started.contains(ObjectIdentifier(p)), let b = buffers[ObjectIdentifier(p)]?.first else { return nil }
            return ("momentum/" + name, Self.snapshot(b, shape: p.shape))
        }
    }

    public func loadState(_ tensors: [String: Tensor]) throws {
        for (p, value) in try parameter(for: "optimizer state", slot: "momentum", in: tensors, shape: \.shape) {
            let key = ObjectIdentifier(p)
            let buffer = Storage(count: p.count)
            buffer.pointer.update(from: value.pointer, count: p.count)
            buffers[key] = [buffer]
            started.insert(key)
        }
    }
}

/// Adam (L2 weight decay added to the gradient) and AdamW (decoupled decay), as torch.optim:
/// m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  p −= lr · m/(1−β1ᵗ) / (sqrt(v/(1−β2ᵗ)) + ε)
public final class Adam: Optimizer {
    public var groups: [ParameterGroup]
    public var learningRateFactor: Float = 1
    public let beta1: Float, beta2: Float, epsilon: Float
    /// AdamW: p −= lr·wd·p before the Adam step, instead of adding wd·p to the gradient.
    public let decoupledWeightDecay: Bool
    fileprivate var moments: [ObjectIdentifier: [Storage]] = [:]
    fileprivate var steps: [ObjectIdentifier: Int] = [:]

    public init(groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                decoupledWeightDecay: Bool = false) {
        (self.groups, self.beta1, self.beta2, self.epsilon, self.decoupledWeightDecay) =
            (groups, beta1, beta2, epsilon, decoupledWeightDecay)
    }

    public func step() {
        let (b1, b2, eps, decoupled) = (beta1, beta2, epsilon, decoupledWeightDecay)
        var steps = self.steps
        forEachGradient(&moments, slots: 2) { p, g, state, lr, wd in
            let t = (steps[ObjectIdentifier(p)] ?? 0) + 1
            steps[ObjectIdentifier(p)] = t
            let c1 = 1 - Foundation.pow(b1, Float(t)), c2 = 1 - Foundation.pow(b2, Float(t))
            let pp = p.pointer, gp = g.pointer, m = state[0].pointer, v = state[1].pointer
            for i in 0..<p.count {
                var grad = gp[i]
                if decoupled { pp[i] *= 1 - lr * wd } else { grad += wd * pp[i] }
                m[i] = b1 * m[i] + (1 - b1) * grad
                v[i] = b2 * v[i] + (1 - b2) * grad * grad
                pp[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
            }
        }
        self.steps = steps
    }
}

extension Adam: OptimizerStateful {
    public func stateTensors() -> [(String, Tensor)] {
        namedParameters.flatMap { name, p -> [(String, Tensor)] in
            let key = ObjectIdentifier(p)
            guard let slots = moments[key], let t = steps[key] else { return [] }
            return [("m/" + name, Self.snapshot(slots[0], shape: p.shape)), ("v/" + name, Self.snapshot(slots[1], shape: p.shape)),
                    ("step/" + name, Tensor(scalar: Float(t)))]
        }
    }

    public func loadState(_ tensors: [String: Tensor]) throws {
        let m = try parameter(for: "optimizer state", slot: "m", in: tensors, shape: \.shape)
        let v = Dictionary(try parameter(for: "optimizer state", slot: "v", in: tensors, shape: \.shape).map { (ObjectIdentifier($0.0), $0.1) },
                           uniquingKeysWith: { a, _ in a })
        let t = Dictionary(try parameter(for: "optimizer state", slot: "step", in: tensors, shape: { _ in [] }).map { (ObjectIdentifier($0.0), $0.1) },
                           uniquingKeysWith: { a, _ in a })
        for (p, mean) in m {
            let key = ObjectIdentifier(p)
            guard let variance = v[key], let step = t[key] else {
                throw TensorError.checkpoint(path: "optimizer state", tensor: "m/…", reason: "a parameter has m but no v or step")
            }
            let (ms, vs) = (Storage(count: p.count), Storage(count: p.count))
            ms.pointer.update(from: mean.pointer, count: p.count)
            vs.pointer.update(from: variance.pointer, count: p.count)
            moments[key] = [ms, vs]
            steps[key] = Int(step.item)
        }
    }
}
