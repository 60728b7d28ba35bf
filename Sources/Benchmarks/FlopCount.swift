import NeuralNetworks
import TensorEngine

/// Floating-point operations of a forward pass (2 × multiply-adds of convolutions and
/// linear layers, the work that dominates), measured by running the model once on one image.
enum FlopCount {
    static func forward(_ model: ImageClassifier, inputShape: [Int]) -> Double {
        // Walk the modules in order, tracking spatial sizes through a real forward pass.
        let total = FlopTotal()
        let x = Tensor(zeros: [1] + inputShape)
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        _ = try? withoutGradients {
            try Module.observer.withValue({ module, _, output in
                if let conv = module as? Conv2d {
                    let w = conv.weight.shape
                    total.add(2 * Double(output.count) * Double(w[1] * w[2] * w[3]))
                } else if let fc = module as? Linear {
                    total.add(2 * Double(output.count) * Double(fc.weight.shape[1]))
                }
            }) { try model(x) }
        }
        return total.value
    }
}

private final class FlopTotal: @unchecked Sendable {
    private(set) var value = 0.0
    func add(_ flops: Double) { value += flops }
}
