import Foundation
import TensorEngine

/// Model checkpoints: safetensors with PyTorch names and layouts, and the model's
/// description in `__metadata__` (`model`, `num_classes`, `input_shape`, `mean`, `std` as JSON text).
public enum Checkpoint {
    public static func save(_ model: ImageClassifier, to path: String, extraMetadata: [String: String] = [:]) throws {
        var metadata = extraMetadata
        let d = model.modelDescription
        metadata["model"] = d.name
        metadata["num_classes"] = String(d.numClasses)
        metadata["input_shape"] = jsonList(d.inputShape.map(String.init))
        metadata["mean"] = jsonList(d.mean.map { "\($0)" })
        metadata["std"] = jsonList(d.std.map { "\($0)" })
        try SafeTensors.write(SafeTensorsFile(tensors: model.stateDict, metadata: metadata), to: path)
    }

    /// The model description stored in a checkpoint.
    public static func description(of file: SafeTensorsFile, path: String) throws -> ModelDescription {
        func field(_ key: String) throws -> String {
            guard let v = file.metadata[key] else {
                throw TensorError.checkpoint(path: path, tensor: nil, reason: "metadata has no '\(key)' (not an rt checkpoint?)")
            }
            return v
        }
        func floats(_ key: String) throws -> [Float] {
            guard let list = try JSONSerialization.jsonObject(with: Data(field(key).utf8)) as? [NSNumber] else {
                throw TensorError.checkpoint(path: path, tensor: nil, reason: "metadata '\(key)' is not a JSON list of numbers")
            }
            return list.map { $0.floatValue }
        }
        guard let classes = Int(try field("num_classes")) else {
            throw TensorError.checkpoint(path: path, tensor: nil, reason: "metadata 'num_classes' is not an integer")
        }
        return ModelDescription(name: try field("model"), numClasses: classes,
                                inputShape: try floats("input_shape").map { Int($0) },
                                mean: try floats("mean"), std: try floats("std"))
    }

    /// Rebuilds the model a checkpoint describes and loads every tensor (strictly).
    public static func load(_ path: String) throws -> (model: ImageClassifier, metadata: [String: String]) {
        let file = try SafeTensors.read(path)
        let model = try ModelZoo.make(description(of: file, path: path), seed: 0)
        try model.load(file, path: path)
        return (model, file.metadata)
    }

    private static func jsonList(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
}

extension Module {
    /// Copies tensors into the state dict by name. Missing, unexpected or mis-shaped tensors
    /// are errors naming the tensor, except names under `skipping` (a head to re-initialize)
    /// and PyTorch's `num_batches_tracked` counters, which the engine does not keep.
    public func load(_ file: SafeTensorsFile, path: String, skipping skipped: [String] = []) throws {
        let state = stateDict
        let isSkipped = { (name: String) in skipped.contains { name.hasComponentPrefix($0) } }
        var provided: [String: Tensor] = [:]
        for (name, t) in file.tensors where !name.hasSuffix("num_batches_tracked") { provided[name] = t }
        let known = Set(state.map(\.0))
        if let extra = provided.keys.sorted().first(where: { !known.contains($0) && !isSkipped($0) }) {
            throw TensorError.checkpoint(path: path, tensor: extra, reason: "unexpected tensor: the model has no such parameter or buffer")
        }
        for (name, target) in state where !isSkipped(name) {
            guard let source = provided[name] else {
                throw TensorError.checkpoint(path: path, tensor: name, reason: "missing from the checkpoint")
            }
            guard source.shape == target.shape else {
                throw TensorError.checkpoint(path: path, tensor: name, reason: "shape \(source.shape) in the file, the model needs \(target.shape)")
            }
        }
        // Copy only after every check passed: a failed load leaves the model untouched.
        for (name, target) in state where !isSkipped(name) {
            target.pointer.update(from: provided[name]!.pointer, count: target.count)
        }
    }
}
