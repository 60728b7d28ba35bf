import XCTest
import TensorEngine
@testable import NeuralNetworks

final class ModelTests: XCTestCase {
    func describe(_ name: String, classes: Int = 10, input: [Int] = [3, 32, 32]) -> ModelDescription {
        ModelDescription(name: name, numClasses: classes, inputShape: input,
                         mean: Array(repeating: 0.5, count: input[0]), std: Array(repeating: 0.25, count: input[0]))
    }

    func testStateDictNamesFollowPyTorch() throws {
        let small = try ModelZoo.make(describe("small-cnn", input: [1, 28, 28]), seed: 0)
        XCTAssertEqual(small.stateDict.map(\.0), ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                                  "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        XCTAssertEqual(small.stateDict[4].1.shape, [128, 64 * 7 * 7])

        let resnet20 = try ModelZoo.make(describe("resnet20"), seed: 0)
        let names = resnet20.stateDict.map(\.0)
        XCTAssertEqual(Array(names.prefix(6)), ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "layer1.0.conv1.weight"])
        XCTAssertTrue(names.contains("layer2.0.downsample.0.weight") && names.contains("layer3.0.downsample.1.running_var"))
        XCTAssertFalse(names.contains("layer1.0.downsample.0.weight"))
        XCTAssertEqual(names.suffix(2), ["fc.weight", "fc.bias"])
        XCTAssertEqual(resnet20.namedParameters.reduce(0) { $0 + $1.1.count }, 272_474, "resnet20 has 0.27M parameters")

        let resnet18 = try ModelZoo.make(describe("resnet18", classes: 1000, input: [3, 224, 224]), seed: 0)
        XCTAssertEqual(resnet18.namedParameters.reduce(0) { $0 + $1.1.count }, 11_689_512, "torchvision resnet18 size")
        XCTAssertEqual(resnet18.stateDict.first { $0.0 == "conv1.weight" }?.1.shape, [64, 3, 7, 7])
        XCTAssertEqual(resnet18.stateDict.filter { !$0.0.hasSuffix("num_batches_tracked") }.count, 102)
    }

    func testOutputsFeaturesAndStages() throws {
        var g = RandomGenerator(seed: 3)
        let x = Tensor.uniform([2, 3, 32, 32], generator: &g)
        for name in ["resnet8", "resnet20", "resnet18-cifar"] {
            let model = try ModelZoo.make(describe(name, classes: 7), seed: 1)
            let out = try model(x, capture: [.features, .stages])
            XCTAssertEqual(out.logits.shape, [2, 7])
            XCTAssertEqual(out.features?.shape.first, 2)
            XCTAssertEqual(out.stages.map(\.0), ["stem", "layer1", "layer2", "layer3"] + (name == "resnet18-cifar" ? ["layer4"] : []))
        }
        let small = try ModelZoo.make(describe("small-cnn", classes: 5, input: [1, 28, 28]), seed: 1)
        let out = try small(Tensor.uniform([2, 1, 28, 28], generator: &g), capture: [.features, .stages])
        XCTAssertEqual(out.features?.shape, [2, 128])
        XCTAssertEqual(out.stages.map(\.0), ["conv1", "conv2", "fc1"])
        XCTAssertThrowsError(try small(Tensor.uniform([2, 3, 28, 28], generator: &g))) { XCTAssertTrue("\($0)".contains("[2, 3, 28, 28]")) }
    }

    func testFreezingByPrefixAndRetrainFrom() throws {
        let model = try ModelZoo.make(describe("resnet20"), seed: 0)
        model.freeze(["layer1", "conv1"])
        XCTAssertFalse(model.namedParameters.first { $0.0 == "layer1.2.conv2.weight" }!.1.requiresGrad)
        XCTAssertTrue(model.namedParameters.first { $0.0 == "bn1.weight" }!.1.requiresGrad)
        try model.freezeBefore("layer3")
        let trainable = model.trainableParameters.map(\.0)
        XCTAssertEqual(trainable.first, "layer3.0.conv1.weight")
        XCTAssertEqual(trainable.last, "fc.bias")
        XCTAssertThrowsError(try model.freezeBefore("layer9")) { XCTAssertTrue("\($0)".contains("layer9")) }
        // Frozen parameters get no gradient from backward.
        var g = RandomGenerator(seed: 0)
        try model(Tensor.uniform([2, 3, 32, 32], generator: &g)).crossEntropy(labels: [1, 2]).backward()
        XCTAssertNil(model.namedParameters.first { $0.0 == "layer2.0.conv1.weight" }!.1.grad)
        XCTAssertNotNil(model.namedParameters.first { $0.0 == "layer3.0.conv1.weight" }!.1.grad)
    }

    func testEvalModeUsesRunningStatistics() throws {
        let model = try ModelZoo.make(describe("resnet8"), seed: 0)
        var g = RandomGenerator(seed: 5)
        let x = Tensor.uniform([4, 3, 32, 32], generator: &g)
        model.eval()
        let before = model.namedBuffers.map { $0.1.values }
        let a = try withoutGradients { try model(x) }.values
        let b = try withoutGradients { try model(x.slice(rows: 0..<1)) }.values
        for (u, v) in zip(a.prefix(10), b) { XCTAssertEqual(u, v, accuracy: 1e-5, "eval outputs do not depend on the rest of the batch") }
        XCTAssertEqual(model.namedBuffers.map { $0.1.values }, before)
        model.train()
        _ = try model(x)
        XCTAssertNotEqual(model.namedBuffers.map { $0.1.values }, before)
    }

    /// A network learns a small separable problem to near-zero loss.
    func testLearnsASeparableProblem() throws {
        var g = RandomGenerator(seed: 11)
        // Two classes: bright left half vs bright right half, with noise.
        let n = 64
        var labels: [Int] = []
        let x = Tensor(shape: [n, 1, 8, 8]) { buffer in
            for i in 0..<n {
                let label = i % 2
                labels.append(label)
                for r in 0..<8 { for c in 0..<8 {
                    let bright = (c < 4) == (label == 0)
                    buffer[i * 64 + r * 8 + c] = (bright ? 0.7 : 0.2) + 0.2 * g.nextUniform()
                } }
            }
        }
        let model = try ModelZoo.make(ModelDescription(name: "small-cnn", numClasses: 2, inputShape: [1, 8, 8], mean: [0.5], std: [0.3]), seed: 2)
        let optimizer = SGD(groups: [ParameterGroup(parameters: model.namedParameters, learningRate: 0.05)], momentum: 0.9)
        var loss: Float = .infinity
        for _ in 0..<60 {
            optimizer.zeroGrad()
            let l = try model(x).crossEntropy(labels: labels)
            try l.backward()
            optimizer.step()
            loss = l.item
        }
        XCTAssertLessThan(loss, 0.01)
    }
}

final class CheckpointTests: XCTestCase {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-checkpoint-\(UUID().uuidString)")
    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    func testSaveLoadAndErrorsNameTheTensor() throws {
        let d = ModelDescription(name: "resnet8", numClasses: 5, inputShape: [1, 16, 16], mean: [0.3], std: [0.2])
        let model = try ModelZoo.make(d, seed: 4)
        model.train()
        var g = RandomGenerator(seed: 1)
        _ = try model(Tensor.uniform([4, 1, 16, 16], generator: &g))  // moves running statistics
        let path = directory.appendingPathComponent("m.safetensors").path
        try Checkpoint.save(model, to: path)
        let (loaded, metadata) = try Checkpoint.load(path)
        XCTAssertEqual(loaded.modelDescription, d)
        XCTAssertEqual(metadata["model"], "resnet8")
        for ((n1, t1), (n2, t2)) in zip(model.stateDict, loaded.stateDict) {
            XCTAssertEqual(n1, n2)
            XCTAssertEqual(t1.values, t2.values, n1)
        }

        var file = try SafeTensors.read(path)
        let intact = file
        file.tensors.removeAll { $0.0 == "layer2.0.bn1.running_var" }
        XCTAssertThrowsError(try loaded.load(file, path: "x")) { XCTAssertTrue("\($0)".contains("layer2.0.bn1.running_var") && "\($0)".contains("missing"), "\($0)") }
        file = intact
        file.tensors.append(("extra.weight", Tensor(zeros: [1])))
        XCTAssertThrowsError(try loaded.load(file, path: "x")) { XCTAssertTrue("\($0)".contains("extra.weight"), "\($0)") }
        file = intact
        file.tensors[0] = ("conv1.weight", Tensor(zeros: [16, 1, 5, 5]))
        XCTAssertThrowsError(try loaded.load(file, path: "x")) { XCTAssertTrue("\($0)".contains("conv1.weight") && "\($0)".contains("[16, 1, 5, 5]"), "\($0)") }

        // A different head is skipped when fine-tuning onto another number of classes.
        let target = try XCTUnwrap(ModelZoo.make(ModelDescription(name: "resnet8", numClasses: 3, inputShape: [1, 16, 16], mean: [0.3], std: [0.2]), seed: 9) as? ResNet)
        let headBefore = target.fc.weight.values
        try target.load(intact, path: path, skipping: [target.headName])
        XCTAssertEqual(target.conv1.weight.values, model.namedParameters[0].1.values)
        XCTAssertEqual(target.fc.weight.values, headBefore)
    }
}
