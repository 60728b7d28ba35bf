import Foundation
import NeuralNetworks
import TensorEngine

/// A checkpoint of another task that a training run starts from (its backbone is kept, its
/// classifier re-initialised): decoded once, checked once, and shared by everything in a trial
/// that needs the parent (training, the corruption suite's channel check, CKA, transfer attacks).
public struct InitialCheckpoint {
    public let file: SafeTensorsFile
    public let description: ModelDescription
    /// Names the checkpoint in errors: its path, or what a trial knows it as.
    public let name: String
    /// What the trained checkpoint's `init` metadata records as its origin: the path for
    /// `rt train --init`, `sha256:<hex>` of the parent's bytes for a trial (a temporary file's
    /// path would point at nothing once the trial ends).
    public let lineage: String

    public init(file: SafeTensorsFile, name: String, lineage: String) throws {
        self.file = file
        self.description = try Checkpoint.description(of: file, path: name)
        (self.name, self.lineage) = (name, lineage)
    }

    /// A checkpoint file (`rt train --init`).
    public static func read(_ path: String) throws -> InitialCheckpoint {
        try InitialCheckpoint(file: SafeTensors.read(path), name: path, lineage: path)
    }

    /// A parent's checkpoint as a trial receives it: bytes, known by their hash.
    public static func decode(_ bytes: Data, name: String, sha256: String) throws -> InitialCheckpoint {
        try InitialCheckpoint(file: SafeTensors.decode(bytes, path: name), name: name, lineage: "sha256:\(sha256)")
    }

    /// The whole model the checkpoint holds, classifier included (the parent as CKA's reference
    /// and as the transfer attacks' crafting model).
    public func model() throws -> ImageClassifier {
        let model = try ModelZoo.make(description, seed: 0)
        try model.load(file, path: name)
        return model
    }
}
