import Foundation
import XCTest
import TensorEngine
@testable import NeuralNetworks

/// Whole networks against PyTorch: the same weights and inputs must give the same logits,
/// loss, input gradient, every parameter gradient and (in training mode) the same running
/// statistics. The golden files are written on the spot by scripts/reference/golden.py;
/// without an importable PyTorch the test skips and says how to get one.
final class GoldenTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Per tensor, max |got − want| ≤ tolerance · max |want| (an element-wise relative test fails
    /// on near-zero gradient entries even between PyTorch's own float32 and float64 runs).
    let tolerance: Float = 1e-4

    func testSmallCNNTrain() throws { try compare(model: "small-cnn", mode: "train") }
    func testSmallCNNEval() throws { try compare(model: "small-cnn", mode: "eval") }
    func testResNet20Train() throws { try compare(model: "resnet20", mode: "train") }
    func testResNet20Eval() throws { try compare(model: "resnet20", mode: "eval") }
    // torchvision's ResNet-18 layout (7×7/2 stem, 3×3/2 max-pool) at the benchmark's 64×64.
    func testResNet18Train() throws { try compare(model: "resnet18", mode: "train", inputShape: "3,64,64") }
    func testResNet18Eval() throws { try compare(model: "resnet18", mode: "eval", inputShape: "3,64,64") }

    func compare(model name: String, mode: String, inputShape: String? = nil) throws {
        let python = try Self.torchPython()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-golden-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("\(name)-\(mode).safetensors").path
        try Self.run(python, [Self.repository.appendingPathComponent("scripts/reference/golden.py").path,
                              "--model", name, "--mode", mode, "--out", path, "--batch", "8"]
                             + (inputShape.map { ["--input-shape", $0] } ?? []))

        let file = try SafeTensors.read(path)
        let model = try ModelZoo.make(Checkpoint.description(of: file, path: path), seed: 0)
        let state = SafeTensorsFile(tensors: file.tensors.compactMap { n, t in
            n.hasPrefix("state.") ? (String(n.dropFirst("state.".count)), t) : nil
        })
        try model.load(state, path: path)
        mode == "train" ? model.train() : model.eval()

        let input = try XCTUnwrap(file["input"]).copy()
        input.requiresGrad = true
        let labels = try XCTUnwrap(file["labels"]).values.map { Int($0) }
        let logits = try model(input)
        let loss = try logits.crossEntropy(labels: labels)
        try loss.backward()

        try expectClose(logits, file["expected.logits"], "logits")
        try expectClose(loss.reshaped([1]), file["expected.loss"], "loss")
        try expectClose(try XCTUnwrap(input.grad), file["expected.input_grad"], "input gradient")
        for (parameter, tensor) in model.namedParameters {
            try expectClose(try XCTUnwrap(tensor.grad, "\(parameter) has no gradient"), file["expected.grad." + parameter], "gradient of \(parameter)")
        }
        if mode == "train" {
            for (buffer, tensor) in model.namedBuffers {
                try expectClose(tensor, file["expected.state." + buffer], buffer)
            }
        }
    }

    func expectClose(_ got: Tensor, _ want: Tensor?, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let want = try XCTUnwrap(want, "golden file has no \(what)")
        XCTAssertEqual(got.shape, want.shape, what, file: file, line: line)
        let scale = want.values.map(abs).max() ?? 0
        let worst = zip(got.values, want.values).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance * max(scale, 1e-12), "\(what): max difference \(worst), scale \(scale)", file: file, line: line)
    }

    /// A Python that can import torch: $RT_TORCH_PYTHON, else the repository's .venv-torch.
    static func torchPython() throws -> String {
        let candidates = [ProcessInfo.processInfo.environment["RT_TORCH_PYTHON"],
                          repository.appendingPathComponent(".venv-torch/bin/python").path].compactMap { $0 }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            if (try? run(candidate, ["-c", "import torch"])) != nil { return candidate }
        }
        throw XCTSkip("PyTorch is not importable (looked at $RT_TORCH_PYTHON and .venv-torch); run scripts/reference/setup_torch.sh to enable the golden tests")
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
            throw NSError(domain: "GoldenTests", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "\(executable) \(arguments.joined(separator: " ")) failed:\n\(text)"])
        }
        return text
    }
}
