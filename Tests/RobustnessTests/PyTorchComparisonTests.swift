import Foundation
import NeuralNetworks
import TensorEngine
import XCTest
@testable import Robustness

/// FGSM and PGD (no random start) against a PyTorch implementation on the same checkpoint and
/// data (scripts/reference/attack_reference.py): equal robust counts, ±1 example for float rounding.
final class PyTorchComparisonTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testFGSMAndPGDMatchPyTorch() throws {
        let python = try Self.torchPython()
        let model = Fixtures.trainedModel
        let data = try Fixtures.testData(for: model)
        let (images, labels) = try Fixtures.batch(data.count, for: model)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-attack-ref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoint = directory.appendingPathComponent("model.safetensors").path
        let dataPath = directory.appendingPathComponent("data.safetensors").path
        try Checkpoint.save(model, to: checkpoint)
        try SafeTensors.write(SafeTensorsFile(tensors: [("images", images),
                                                        ("labels", try Tensor(shape: [labels.count], values: labels.map(Float.init)))]),
                              to: dataPath)
        let eps: Float = 8 / 255, steps = 10
        let output = try Self.run(python, [Self.repository.appendingPathComponent("scripts/reference/attack_reference.py").path,
                                           checkpoint, dataPath, "--eps", "\(eps)", "--steps", "\(steps)"])
        let line = try XCTUnwrap(output.split(separator: "\n").last)
        let reference = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Int])

        let report = try RobustnessEvaluator().evaluate(model, on: data, attacks: [
            AttackSpec(kind: .fgsm, eps: eps), AttackSpec(kind: .pgd, eps: eps, steps: steps, randomStart: false)])
        let count = { (mask: [Bool]) in mask.filter { $0 }.count }
        XCTAssertEqual(count(report.cleanCorrect), reference["clean"])
        XCTAssertEqual(Double(count(report.results[0].correct)), Double(reference["fgsm"] ?? -9), accuracy: 1, "FGSM")
        XCTAssertEqual(Double(count(report.results[1].correct)), Double(reference["pgd"] ?? -9), accuracy: 1, "PGD")
    }

    /// A Python that imports torch: $RT_TORCH_PYTHON, this checkout's .venv-torch, or the main checkout's.
    static func torchPython() throws -> String {
        var candidates = [ProcessInfo.processInfo.environment["RT_TORCH_PYTHON"],
                          repository.appendingPathComponent(".venv-torch/bin/python").path].compactMap { $0 }
        if let common = try? run("/usr/bin/git", ["-C", repository.path, "rev-parse", "--path-format=absolute", "--git-common-dir"]) {
            let main = URL(fileURLWithPath: common.trimmingCharacters(in: .whitespacesAndNewlines)).deletingLastPathComponent()
            candidates.append(main.appendingPathComponent(".venv-torch/bin/python").path)
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            if (try? run(candidate, ["-c", "import torch"])) != nil { return candidate }
        }
        throw XCTSkip("PyTorch is not importable ($RT_TORCH_PYTHON, .venv-torch here or in the main checkout); run scripts/reference/setup_torch.sh to compare attacks with PyTorch")
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
