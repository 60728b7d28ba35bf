import Foundation
import TensorEngine
import XCTest
@testable import NeuralNetworks

/// What docs promise a PyTorch user: an rt checkpoint opens with the official
/// `safetensors.torch.load_file`, loads into the same network with `load_state_dict(strict=True)`,
/// and classifies as rt does. Skips when PyTorch or safetensors is not importable.
final class PyTorchCheckpointTests: XCTestCase {
    func testSmallCNN() throws { try roundTrip("small-cnn", inputShape: [1, 28, 28], classes: 10) }
    func testResNet20() throws { try roundTrip("resnet20", inputShape: [3, 32, 32], classes: 4) }

    func roundTrip(_ name: String, inputShape: [Int], classes: Int) throws {
        let python = try GoldenTests.torchPython()
        guard (try? GoldenTests.run(python, ["-c", "import safetensors.torch"])) != nil else {
            throw XCTSkip("the safetensors package is not importable; run scripts/reference/setup_torch.sh")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-torch-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (checkpoint, input, output) = (directory.appendingPathComponent("model.safetensors").path,
                                           directory.appendingPathComponent("input.safetensors").path,
                                           directory.appendingPathComponent("logits.safetensors").path)

        // Seeded weights and batch-norm statistics that are not the initial ones, so a buffer
        // that failed to load would show in the logits.
        let description = ModelDescription(name: name, numClasses: classes, inputShape: inputShape,
                                           mean: Array(repeating: 0.4, count: inputShape[0]), std: Array(repeating: 0.2, count: inputShape[0]))
        let model = try ModelZoo.make(description, seed: 7)
        var generator = RandomGenerator(seed: 11, stream: "buffers")
        for (_, buffer) in model.namedBuffers {
            for i in 0..<buffer.count { buffer.pointer[i] = 0.5 + generator.nextUniform() }
        }
        model.eval()
        try Checkpoint.save(model, to: checkpoint)
        let images = try Tensor(shape: [4] + inputShape, values: (0..<(4 * inputShape.reduce(1, *))).map { _ in generator.nextUniform() })
        try SafeTensors.write(SafeTensorsFile(tensors: [("input", images)]), to: input)

        let printed = try GoldenTests.run(python, [GoldenTests.repository.appendingPathComponent("scripts/reference/load_rt_checkpoint.py").path,
                                                   checkpoint, "--input", input, "--out", output])
        XCTAssertTrue(printed.contains("\"model\": \"\(name)\""), printed)
        let torchLogits = try XCTUnwrap(SafeTensors.read(output)["logits"])
        let logits = try model(images)
        XCTAssertEqual(torchLogits.shape, logits.shape)
        let scale = logits.values.map(abs).max() ?? 0
        let worst = zip(torchLogits.values, logits.values).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(worst, 1e-4 * max(scale, 1), "PyTorch's logits differ from rt's by \(worst) (scale \(scale))")
    }
}
