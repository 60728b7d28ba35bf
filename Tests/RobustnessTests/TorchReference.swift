import Datasets
import Foundation
import NeuralNetworks
import Robustness
import TensorEngine
import XCTest

/// The PyTorch reference scripts (scripts/reference/): finding a Python that imports torch, and
/// running a script. Tests that need it skip, saying how to get one, when there is none.
enum TorchReference {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func script(_ name: String) -> String { repository.appendingPathComponent("scripts/reference/\(name)").path }

    /// A Python that imports torch: $RT_TORCH_PYTHON, this checkout's .venv-torch, or the main checkout's.
    static func python() throws -> String {
        var candidates = [ProcessInfo.processInfo.environment["RT_TORCH_PYTHON"],
                          repository.appendingPathComponent(".venv-torch/bin/python").path].compactMap { $0 }
        if let common = try? run("/usr/bin/git", ["-C", repository.path, "rev-parse", "--path-format=absolute", "--git-common-dir"]) {
            let main = URL(fileURLWithPath: common.trimmingCharacters(in: .whitespacesAndNewlines)).deletingLastPathComponent()
            candidates.append(main.appendingPathComponent(".venv-torch/bin/python").path)
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            if (try? run(candidate, ["-c", "import torch"])) != nil { return candidate }
        }
        throw XCTSkip("PyTorch is not importable ($RT_TORCH_PYTHON, .venv-torch here or in the main checkout); run scripts/reference/setup_torch.sh to compare with PyTorch")
    }

    /// A Python that imports torch and torchattacks (the independent attacks), or a skip saying how to get one.
    static func torchattacksPython() throws -> String {
        let python = try python()
        guard (try? run(python, ["-c", "import torchattacks"])) != nil else {
            throw XCTSkip("torchattacks is not importable in \(python); run scripts/reference/setup_torch.sh")
        }
        return python
    }

    /// The 10-class fixture model, its whole test set (also as one batch) and both written for a script.
    /// The caller removes `files.directory`.
    static func tenClassInputs() throws -> (model: ImageClassifier, data: ImageDataset, images: Tensor, labels: [Int],
                                            files: (directory: URL, checkpoint: String, data: String)) {
        let model = Fixtures.tenClassModel
        let data = try Fixtures.testData(for: model, dataset: Fixtures.tenClassDataset)
        let (images, labels) = try Fixtures.batch(data.count, for: model, dataset: Fixtures.tenClassDataset)
        return (model, data, images, labels, try writeInputs(model, images: images, labels: labels))
    }

    /// A fresh directory with the model's checkpoint and the batch (`images`, `labels` as floats) as
    /// safetensors, what the reference scripts read. The caller removes `directory`.
    static func writeInputs(_ model: ImageClassifier, images: Tensor, labels: [Int]) throws -> (directory: URL, checkpoint: String, data: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-torch-ref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let checkpoint = directory.appendingPathComponent("model.safetensors").path
        let data = directory.appendingPathComponent("data.safetensors").path
        try Checkpoint.save(model, to: checkpoint)
        try SafeTensors.write(SafeTensorsFile(tensors: [("images", images),
                                                        ("labels", try Tensor(shape: [labels.count], values: labels.map(Float.init)))]),
                              to: data)
        return (directory, checkpoint, data)
    }

    /// The last line a reference script printed, as JSON counts.
    static func counts(_ output: String) throws -> [String: Int] {
        let line = try XCTUnwrap(output.split(separator: "\n").last)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Int])
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw RobustnessError.incompatible("\(executable) \(arguments.joined(separator: " ")) failed:\n\(text)")
        }
        return text
    }
}
