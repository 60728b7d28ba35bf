import Foundation
import TensorEngine

/// Model checkpoints: safetensors with PyTorch names and layouts, and the model's
/// description in `__metadata__` (`model`, `num_classes`, `input_shape`, `mean`, `std` as JSON text).
public enum Checkpoint {
    public static func save(_ model: ImageClassifier, to path: String, extraMetadata: [String: String] = [:]) throws {
        try SafeTensors.write(file(of: model, extraMetadata: extraMetadata), to: path)
    }

    /// The checkpoint's bytes, for a trial that hands them to the store without a file.
    public static func encode(_ model: ImageClassifier, extraMetadata: [String: String] = [:]) throws -> Data {
        try SafeTensors.encode(file(of: model, extraMetadata: extraMetadata))
    }

    private static func file(of model: ImageClassifier, extraMetadata: [String: String]) -> SafeTensorsFile {
        var metadata = extraMetadata
        let d = model.modelDescription
        metadata["model"] = d.name
        metadata["num_classes"] = String(d.numClasses)
        metadata["input_shape"] = jsonList(d.inputShape.map(String.init))
        metadata["mean"] = jsonList(d.mean.map { "\($0)" })
        metadata["std"] = jsonList(d.std.map { "\($0)" })
        return SafeTensorsFile(tensors: model.stateDict, metadata: metadata)
    }

    /// The model description stored in a checkpoint, every value range-checked
    /// (`CheckpointMetadata`): errors name the file and the metadata key.
    public static func description(of file: SafeTensorsFile, path: String) throws -> ModelDescription {
        try CheckpointMetadata.description(of: file, path: path)
    }

    /// Rebuilds the model a checkpoint describes and loads every tensor (strictly).
    public static func load(_ path: String) throws -> (model: ImageClassifier, metadata: [String: String]) {
        let file = try SafeTensors.read(path)
        return (try model(of: file, path: path), file.metadata)
    }

    /// Rebuilds the model a decoded checkpoint describes and loads every tensor (strictly);
    /// `path` names the checkpoint in errors.
    public static func model(of file: SafeTensorsFile, path: String) throws -> ImageClassifier {
        let model = try ModelZoo.make(description(of: file, path: path), seed: 0)
        try model.load(file, path: path)
        return model
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
            // A NaN or Inf weight evaluates to nonsense with exit status 0; refuse the file instead.
            if let index = UnsafeBufferPointer(start: source.pointer, count: source.count).firstIndex(where: { !$0.isFinite }) {
                throw TensorError.checkpoint(path: path, tensor: name, reason: "element \(index) is \(source.pointer[index]) (weights must be finite)")
            }
        }
        // Copy only after every check passed: a failed load leaves the model untouched.
        for (name, target) in state where !isSkipped(name) {
            target.pointer.update(from: provided[name]!.pointer, count: target.count)
        }
    }
}
