/// One workload of `rt bench engine`: a model, its input, what a step does and the batch.
/// scripts/bench/pytorch_engine.py holds the same table, so both sides time the same work.
public struct EngineWorkload: Sendable, Equatable {
    public enum Kind: String, Sendable { case train, pgd10 }

    public let model: String
    public let inputShape: [Int]
    public let kind: Kind
    public let batch: Int

    public var name: String { "\(model)/\(kind.rawValue)" }

    /// Forward passes' worth of FLOPs per image: training is forward, input gradient and weight
    /// gradient; PGD-10 is 10 × (forward, input gradient).
    public var forwardsPerImage: Double { kind == .train ? 3 : 10 * 2 }

    /// small-cnn and resnet20 at their datasets' sizes (batch 128); resnet18 is torchvision's
    /// ResNet-18 (the backbone the paper fine-tunes) at 64×64, the resolution a CPU study can
    /// afford, with batch 64.
    public static let all: [EngineWorkload] = [
        ("small-cnn", [1, 28, 28], 128), ("resnet20", [3, 32, 32], 128), ("resnet18", [3, 64, 64], 64),
    ].flatMap { model, shape, batch in
        [Kind.train, .pgd10].map { EngineWorkload(model: model, inputShape: shape, kind: $0, batch: batch) }
    }

    public static func named(_ name: String) -> EngineWorkload? { all.first { $0.name == name } }
}
