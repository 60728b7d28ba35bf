import TensorEngine

/// A network part whose parameters and buffers are reached by PyTorch `state_dict` names.
///
/// A module lists its own tensors and its children in model order; everything
/// else (recursive names, train/eval mode, freezing by prefix, loading) is
/// derived here once, as in mlx-swift. Parameters are `let` tensors that are
/// updated in place, so a name always reaches the same tensor.
open class Module {
    public private(set) var isTraining = true

    public init() {}

    /// Child modules in model order, with their attribute names (`conv1`, `layer1`, `0`).
    open var children: [(String, Module)] { [] }
    /// This module's own trainable tensors (`weight`, `bias`).
    open var ownParameters: [(String, Tensor)] { [] }
    /// This module's own non-trainable state (`running_mean`, `running_var`).
    open var ownBuffers: [(String, Tensor)] { [] }

    open func forward(_ x: Tensor) throws -> Tensor { x }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y = try forward(x)
        Module.observer.value?(self, x, y)
        return y
    }

    /// Sees every module call (module, input, output) on this thread while set: FLOP counting, activation statistics.
    public static let observer = ThreadLocal<((Module, Tensor, Tensor) -> Void)?>(nil)

    /// Every parameter under its dotted name, in model order.
    public var namedParameters: [(String, Tensor)] { collect(\.ownParameters) }
    /// Every buffer under its dotted name, in model order.
    public var namedBuffers: [(String, Tensor)] { collect(\.ownBuffers) }
    /// Parameters and buffers, as PyTorch's `state_dict()` (parameters first within each module).
    public var stateDict: [(String, Tensor)] {
        var entries: [(String, Tensor)] = []
        visit(prefix: "") { prefix, module in
            for (name, t) in module.ownParameters + module.ownBuffers { entries.append((prefix + name, t)) }
        }
        return entries
    }

    /// Parameters that `backward()` will give a gradient (not frozen).
    public var trainableParameters: [(String, Tensor)] { namedParameters.filter { $0.1.requiresGrad } }

    private func collect(_ own: KeyPath<Module, [(String, Tensor)]>) -> [(String, Tensor)] {
        var entries: [(String, Tensor)] = []
        visit(prefix: "") { prefix, module in
            for (name, t) in module[keyPath: own] { entries.append((prefix + name, t)) }
        }
        return entries
    }

    private func visit(prefix: String, _ body: (String, Module) -> Void) {
        body(prefix, self)
        for (name, child) in children { child.visit(prefix: prefix + name + ".", body) }
    }

    /// This module and every module below it, in model order.
    public var allModules: [Module] {
        var modules: [Module] = []
        visit(prefix: "") { _, module in modules.append(module) }
        return modules
    }

    /// Training mode (batch statistics in batch-norm) for this module and its children.
    public func train(_ on: Bool = true) {
        visit(prefix: "") { _, module in module.isTraining = on }
    }

    /// Evaluation mode (running statistics in batch-norm).
    public func eval() { train(false) }

    /// Freezes every parameter whose name starts with one of `prefixes` (a whole
    /// component: `layer1` matches `layer1.0.conv1.weight`, not `layer10.x`).
    public func freeze(_ prefixes: [String]) {
        for (name, t) in namedParameters where prefixes.contains(where: { name.hasComponentPrefix($0) }) {
            t.requiresGrad = false
            t.grad = nil
        }
    }

    /// Makes every parameter (or those under `prefixes`) trainable again.
    public func unfreeze(_ prefixes: [String]? = nil) {
        for (name, t) in namedParameters where prefixes.map({ $0.contains { name.hasComponentPrefix($0) } }) ?? true {
            t.requiresGrad = true
        }
    }

    /// Freezes every parameter that comes before the first one named under `name` in model order
    /// (the "re-trained layers" factor: `retrainFrom("layer3")` trains layer3 onwards).
    public func freezeBefore(_ name: String) throws {
        let params = namedParameters
        guard let first = params.firstIndex(where: { $0.0.hasComponentPrefix(name) }) else {
            throw TensorError.invalidArgument(op: "retrain-from",
                reason: "no parameter named '\(name)'; top-level names are \(topLevelNames.joined(separator: ", "))")
        }
        unfreeze()
        for (_, t) in params[..<first] { t.requiresGrad = false; t.grad = nil }
    }

    /// The first components of the parameter names, in order (`conv1`, `bn1`, `layer1`, ...).
    public var topLevelNames: [String] {
        var seen: [String] = []
        for (name, _) in namedParameters {
            let head = String(name.split(separator: ".").first ?? "")
            if seen.last != head && !seen.contains(head) { seen.append(head) }
        }
        return seen
    }

    public func zeroGrad() { for (_, t) in namedParameters { t.grad = nil } }
}

extension String {
    /// Whether `prefix` names this dotted name or one of its ancestors.
    func hasComponentPrefix(_ prefix: String) -> Bool {
        self == prefix || hasPrefix(prefix + ".") || prefix.isEmpty
    }
}
