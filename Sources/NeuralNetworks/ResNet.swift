import TensorEngine

/// ResNets with torchvision's parameter names.
///  - CIFAR style (`resnet8`, `resnet20`): 3×3 stem with 16 channels, three stages of 16/32/64
///    channels (He et al. 2016, §4.2).
///  - ImageNet style (`resnet18`): 7×7 stride-2 stem, max-pool, four stages of 64..512 channels,
///    so torchvision's weights load unchanged; `resnet18-cifar` keeps a 3×3 stride-1 stem and no max-pool.
public final class ResNet: ImageClassifier {
    public let conv1: Conv2d, bn1: BatchNorm2d
    public let stemPool: MaxPool2d?
    public let layers: [Sequential]
    public let fc: Linear

    public init(description: ModelDescription, stageWidths: [Int], blocksPerStage: Int,
                imagenetStem: Bool, generator: inout RandomGenerator) throws {
        let inChannels = description.inputShape[0]
        if imagenetStem {
            conv1 = Conv2d(inChannels, stageWidths[0], kernel: 7, stride: 2, padding: 3, bias: false, generator: &generator)
            stemPool = MaxPool2d(kernel: 3, stride: 2, padding: 1)
        } else {
            conv1 = Conv2d(inChannels, stageWidths[0], kernel: 3, stride: 1, padding: 1, bias: false, generator: &generator)
            stemPool = nil
        }
        bn1 = BatchNorm2d(stageWidths[0])
        var channels = stageWidths[0]
        var stages: [Sequential] = []
        for (i, width) in stageWidths.enumerated() {
            var blocks: [Module] = []
            for b in 0..<blocksPerStage {
                let stride = (i > 0 && b == 0) ? 2 : 1
                blocks.append(BasicBlock(channels, width, stride: stride, generator: &generator))
                channels = width
            }
            stages.append(Sequential(blocks))
        }
        layers = stages
        fc = Linear(channels, description.numClasses, generator: &generator)
        try super.init(description: description)
        // torchvision: Kaiming normal (fan-out, ReLU) for convolutions; BN starts at γ = 1, β = 0.
        for (name, t) in namedParameters where t.rank == 4 && name.hasSuffix("weight") {
            let fanOut = t.shape[0] * t.shape[2] * t.shape[3]
            let fresh = Tensor.kaimingNormal(t.shape, fanOut: fanOut, generator: &generator)
            t.pointer.update(from: fresh.pointer, count: t.count)
        }
    }

    public override var children: [(String, Module)] {
        var list: [(String, Module)] = [("conv1", conv1), ("bn1", bn1)]
        for (i, layer) in layers.enumerated() { list.append(("layer\(i + 1)", layer)) }
        list.append(("fc", fc))
        return list
    }

    public override func run(_ x: Tensor, capture: Capture) throws -> ModelOutput {
        var y = try bn1.foldingReLU(conv1, x)
        if let stemPool { y = try stemPool(y) }
        var stages: [(String, Tensor)] = capture.contains(.stages) ? [("stem", y)] : []
        for (i, layer) in layers.enumerated() {
            y = try layer(y)
            if capture.contains(.stages) { stages.append(("layer\(i + 1)", y)) }
        }
        let features = try y.globalAvgPool()
        let logits = try fc(features)
        return ModelOutput(logits: logits, features: capture.contains(.features) ? features : nil, stages: stages)
    }
}
