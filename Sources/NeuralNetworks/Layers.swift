import TensorEngine

/// `(x − mean) / std` per channel: the first layer of every model, so that inputs
/// (and attack budgets) stay in pixel units in [0, 1]. Not part of the state dict;
/// its statistics travel in the checkpoint's metadata.
public final class Normalize: Module {
    public let mean: [Float], std: [Float]
    private let shift: Tensor, scale: Tensor

    public init(mean: [Float], std: [Float]) throws {
        try require(mean.count == std.count && !mean.isEmpty && std.allSatisfy { $0 > 0 },
                    "Normalize needs one positive std per mean, got mean \(mean) std \(std)")
        self.mean = mean
        self.std = std
        shift = try Tensor(shape: [1, mean.count, 1, 1], values: mean.map { -$0 })
        scale = try Tensor(shape: [1, std.count, 1, 1], values: std.map { 1 / $0 })
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try require(x.rank == 4 && x.shape[1] == mean.count,
                    "Normalize expects (N, \(mean.count), H, W) images, got \(x.shape)")
        return try (x + shift) * scale
    }
}

/// 2-D convolution with PyTorch's OIHW weight and default initialization.
public final class Conv2d: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int, padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, generator: inout RandomGenerator) {
        let fanIn = inChannels * kernel * kernel
        weight = Tensor.kaimingUniform([outChannels, inChannels, kernel, kernel], fanIn: fanIn, generator: &generator)
        let bound = 1 / Float(fanIn).squareRoot()
        self.bias = bias ? Tensor.uniform([outChannels], low: -bound, high: bound, generator: &generator) : nil
        (self.stride, self.padding) = (stride, padding)
        super.init()
        weight.requiresGrad = true
        self.bias?.requiresGrad = true
    }

    public override var ownParameters: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
    public override func forward(_ x: Tensor) throws -> Tensor {
        try x.conv2d(weight: weight, bias: bias, stride: stride, padding: padding)
    }
}

/// Fully connected layer, weight (out, in) as in PyTorch.
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: inout RandomGenerator) {
        weight = Tensor.kaimingUniform([outFeatures, inFeatures], fanIn: inFeatures, generator: &generator)
        let bound = 1 / Float(inFeatures).squareRoot()
        self.bias = bias ? Tensor.uniform([outFeatures], low: -bound, high: bound, generator: &generator) : nil
        super.init()
        weight.requiresGrad = true
        self.bias?.requiresGrad = true
    }

    public override var ownParameters: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
    public override func forward(_ x: Tensor) throws -> Tensor { try linear(x, weight: weight, bias: bias) }
}

/// Batch normalization over channels with running statistics (PyTorch semantics).
public final class BatchNorm2d: Module {
    public let weight: Tensor, bias: Tensor
    public let runningMean: Tensor, runningVar: Tensor
    public let momentum: Float, epsilon: Float
    /// In training, each of this many consecutive slices of a batch is normalized with its own
    /// statistics, as k data-parallel replicas do with their slices (`BatchNorm2d+Slices`); 1:
    /// the whole batch, as usual.
    public var statisticsSlices = 1

    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        weight = Tensor(repeating: 1, shape: [channels])
        bias = Tensor(zeros: [channels])
        runningMean = Tensor(zeros: [channels])
        runningVar = Tensor(repeating: 1, shape: [channels])
        (self.momentum, self.epsilon) = (momentum, epsilon)
        super.init()
        weight.requiresGrad = true
        bias.requiresGrad = true
    }

    public override var ownParameters: [(String, Tensor)] { [("weight", weight), ("bias", bias)] }
    public override var ownBuffers: [(String, Tensor)] { [("running_mean", runningMean), ("running_var", runningVar)] }
    public override func forward(_ x: Tensor) throws -> Tensor {
        guard isTraining, statisticsSlices > 1 else {
            return try x.batchNorm(weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                   training: isTraining, momentum: momentum, epsilon: epsilon)
        }
        return try normalizingSlices(x) { slice, _ in
            try slice.batchNorm(weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                training: true, momentum: momentum, epsilon: epsilon)
        }
    }
}

extension BatchNorm2d {
    /// `self(conv(x))`. In evaluation batch-norm is a fixed affine map per channel, so it is
    /// folded into the convolution: weight·γ/σ and bias β − μ·γ/σ (+ the conv's bias·γ/σ), one
    /// convolution instead of a convolution plus a normalization pass forward and another
    /// backward (about 5% of a resnet20 PGD step). The fold is built from tape ops, so gradients
    /// reach the conv weight, γ and β as they would through the two layers; the outputs agree to
    /// float rounding. Observers still see both modules.
    public func folding(_ conv: Conv2d, _ x: Tensor) throws -> Tensor {
        guard !isTraining else { return try self(conv(x)) }
        return try foldedConvolution(conv, x)
    }

    /// relu(self(conv(x)) + residual) (residual optional), as ResNet writes it. In training the
    /// normalization, the residual and the ReLU are one op (`Tensor.batchNormReLU`): one pass over
    /// the activation instead of three, and no intermediate activations kept for backward. In
    /// evaluation the batch-norm is folded into the convolution as in `folding`.
    public func foldingReLU(_ conv: Conv2d, _ x: Tensor, adding residual: Tensor? = nil) throws -> Tensor {
        guard isTraining else { return try foldedConvolution(conv, x, relu: true, adding: residual) }
        let z = try conv(x)
        let y = try normalizingSlices(z) { slice, rows in
            try slice.batchNormReLU(weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar, training: true,
                                    momentum: momentum, epsilon: epsilon, adding: rows == nil ? residual : residual?.slice(rows: rows!))
        }
        // Observers see the batch-norm module with the fused op's output (after the ReLU).
        Module.observer.value?(self, z, y)
        return y
    }

    /// The folded convolution, with the ReLU and the residual in its epilogue when asked.
    private func foldedConvolution(_ conv: Conv2d, _ x: Tensor, relu: Bool = false, adding residual: Tensor? = nil) throws -> Tensor {
        let channels = weight.count
        try require(conv.weight.shape[0] == channels,
                    "batch-norm over \(channels) channels follows a convolution with \(conv.weight.shape[0]) outputs")
        let inverseStd = try Tensor(shape: [channels], values: runningVar.values.map { 1 / ($0 + epsilon).squareRoot() })
        let scale = try weight * inverseStd
        var shift = try bias - runningMean * scale
        if let convBias = conv.bias { shift = try shift + convBias * scale }
        let foldedWeight = try conv.weight * scale.reshaped([channels, 1, 1, 1])
        let y = relu
            ? try x.conv2dReLU(weight: foldedWeight, bias: shift, stride: conv.stride, padding: conv.padding, adding: residual)
            : try x.conv2d(weight: foldedWeight, bias: shift, stride: conv.stride, padding: conv.padding)
        if let observe = Module.observer.value {
            observe(conv, x, y)
            observe(self, y, y)
        }
        return y
    }
}

public final class ReLU: Module {
    public override func forward(_ x: Tensor) throws -> Tensor { x.relu() }
}

public final class MaxPool2d: Module {
    public let kernel: Int, stride: Int, padding: Int
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        (self.kernel, self.stride, self.padding) = (kernel, stride ?? kernel, padding)
    }
    public override func forward(_ x: Tensor) throws -> Tensor { try x.maxPool2d(kernel: kernel, stride: stride, padding: padding) }
}

public final class AvgPool2d: Module {
    public let kernel: Int, stride: Int, padding: Int
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        (self.kernel, self.stride, self.padding) = (kernel, stride ?? kernel, padding)
    }
    public override func forward(_ x: Tensor) throws -> Tensor { try x.avgPool2d(kernel: kernel, stride: stride, padding: padding) }
}

/// (N, C, H, W) -> (N, C)
public final class GlobalAvgPool: Module {
    public override func forward(_ x: Tensor) throws -> Tensor { try x.globalAvgPool() }
}

/// (N, ...) -> (N, features), C,H,W order.
public final class Flatten: Module {
    public override func forward(_ x: Tensor) throws -> Tensor { try x.flattened() }
}

/// Children applied in order, named `0`, `1`, ... as in PyTorch.
public final class Sequential: Module {
    public let layers: [Module]
    public init(_ layers: [Module]) { self.layers = layers }
    public override var children: [(String, Module)] { layers.enumerated().map { (String($0.offset), $0.element) } }
    public override func forward(_ x: Tensor) throws -> Tensor {
        var y = x
        for layer in layers { y = try layer(y) }
        return y
    }

    /// A (Conv2d, BatchNorm2d) pair, as ResNet's `downsample`, applied with the batch-norm folded
    /// in evaluation; any other sequence runs layer by layer.
    func convBatchNorm(_ x: Tensor) throws -> Tensor {
        guard layers.count == 2, let conv = layers[0] as? Conv2d, let bn = layers[1] as? BatchNorm2d else { return try self(x) }
        let y = try bn.folding(conv, x)
        Module.observer.value?(self, x, y)
        return y
    }
}

/// The two-convolution residual block of ResNet-18/20, with a 1×1 conv + BN
/// projection (`downsample.0`, `downsample.1`) where the shape changes.
public final class BasicBlock: Module {
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    public let downsample: Sequential?

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int, generator: inout RandomGenerator) {
        conv1 = Conv2d(inChannels, outChannels, kernel: 3, stride: stride, padding: 1, bias: false, generator: &generator)
        bn1 = BatchNorm2d(outChannels)
        conv2 = Conv2d(outChannels, outChannels, kernel: 3, stride: 1, padding: 1, bias: false, generator: &generator)
        bn2 = BatchNorm2d(outChannels)
        if stride != 1 || inChannels != outChannels {
            downsample = Sequential([
                Conv2d(inChannels, outChannels, kernel: 1, stride: stride, bias: false, generator: &generator),
                BatchNorm2d(outChannels),
            ])
        } else {
            downsample = nil
        }
    }

    public override var children: [(String, Module)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)] + (downsample.map { [("downsample", $0)] } ?? [])
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        let shortcut = try downsample.map { try $0.convBatchNorm(x) } ?? x
        return try bn2.foldingReLU(conv2, bn1.foldingReLU(conv1, x), adding: shortcut)
    }
}

func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw TensorError.invalidArgument(op: "model", reason: message()) }
}
