import TensorEngine

/// Builds models by name.
public enum ModelZoo {
    public static let names = ["small-cnn", "resnet8", "resnet20", "resnet18", "resnet18-cifar"]

    public static func make(_ description: ModelDescription, seed: UInt64) throws -> ImageClassifier {
        var generator = RandomGenerator(seed: seed, stream: "init/" + description.name)
        switch description.name {
        case "small-cnn":
            return try SmallCNN(description: description, generator: &generator)
        case "resnet8":
            return try ResNet(description: description, stageWidths: [16, 32, 64], blocksPerStage: 1, imagenetStem: false, generator: &generator)
        case "resnet20":
            return try ResNet(description: description, stageWidths: [16, 32, 64], blocksPerStage: 3, imagenetStem: false, generator: &generator)
        case "resnet18":
            return try ResNet(description: description, stageWidths: [64, 128, 256, 512], blocksPerStage: 2, imagenetStem: true, generator: &generator)
        case "resnet18-cifar":
            return try ResNet(description: description, stageWidths: [64, 128, 256, 512], blocksPerStage: 2, imagenetStem: false, generator: &generator)
        default:
            throw TensorError.invalidArgument(op: "model", reason: "unknown model '\(description.name)'; known: \(names.joined(separator: ", "))")
        }
    }
}
