import Foundation
import NeuralNetworks
import Robustness
import TensorEngine
import XCTest

/// Every training objective against PyTorch. scripts/reference/objective_golden.py writes each
/// objective from its formula (not from rt's code) and records, from the same weights and batch:
///
/// - **step**: the outer loss at given adversarial examples, every parameter gradient, the
///   parameters after one SGD step and the BN running statistics. rt takes that step through the
///   `Trainer`, as training does, with the examples fed to the objective's outer loss;
/// - **attack**: the inner maximisation from a given start, and the adversarial examples it ends at.
///
/// Tolerance as the network golden tests: per tensor, max |got − want| ≤ 1e-4 · max |want|.
/// Without an importable PyTorch the tests skip and say how to get one.
final class ObjectiveGoldenTests: XCTestCase {
    let tolerance: Float = 1e-4

    func testCrossEntropyStepSmallCNN() throws { try step("ce", "small-cnn") }
    func testCrossEntropyStepResNet8() throws { try step("ce", "resnet8") }
    func testPGDATStepSmallCNN() throws { try step("pgd-at", "small-cnn") }
    func testPGDATStepResNet8() throws { try step("pgd-at", "resnet8") }
    func testTRADESStepSmallCNN() throws { try step("trades", "small-cnn") }
    func testTRADESStepResNet8() throws { try step("trades", "resnet8") }
    func testDMStepSmallCNN() throws { try step("dm", "small-cnn") }
    func testDMStepResNet8() throws { try step("dm", "resnet8") }

    func testPGDATAttackSmallCNN() throws { try attack("pgd-at", "small-cnn") }
    func testPGDATAttackResNet8() throws { try attack("pgd-at", "resnet8") }
    func testTRADESAttackSmallCNN() throws { try attack("trades", "small-cnn") }
    func testTRADESAttackResNet8() throws { try attack("trades", "resnet8") }
    func testDMAttackSmallCNN() throws { try attack("dm", "small-cnn") }
    func testDMAttackResNet8() throws { try attack("dm", "resnet8") }

    /// One Trainer step (SGD with the file's lr, momentum and weight decay) on the outer loss.
    func step(_ objectiveName: String, _ modelName: String) throws {
        let golden = try Golden(objective: objectiveName, model: modelName)
        let model = try golden.model()
        let objective = try golden.objective()
        let adversarial = golden.file["adversarial"]
        let training: TrainingObjective = try adversarial.map { examples in
            try GivenAdversarialExamples(objective: XCTUnwrap(objective as? AdversarialObjective), adversarial: examples)
        } ?? objective
        let optimizer = SGD(groups: [ParameterGroup(parameters: model.namedParameters, learningRate: try golden.float("lr"),
                                                    weightDecay: try golden.float("weight_decay"))],
                            momentum: try golden.float("momentum"))
        let before = model.namedParameters.map { ($0.0, $0.1.copy()) }
        let result = try Trainer(model: model, optimizer: optimizer, objective: training)
            .step(images: try golden.tensor("input"), labels: try golden.labels())

        var worst = Deviation(), updates = Deviation()
        worst.note(try expectClose(try Tensor(shape: [1], values: [result.loss]), golden.tensor("expected.loss"), "loss"))
        for ((name, parameter), (_, initial)) in zip(model.namedParameters, before) {
            let gradient = try XCTUnwrap(parameter.grad, "\(name) has no gradient")
            worst.note(try expectClose(gradient, golden.tensor("expected.grad." + name), "gradient of \(name)"))
            let want = try golden.tensor("expected.param." + name)
            worst.note(try expectClose(parameter, want, "\(name) after the step"))
            // The update itself, at its own scale (the parameters barely move in one step). Both
            // sides are differences of float32 parameters, so each carries up to an ulp of them.
            let update = try withoutGradients { try parameter - initial }, wantUpdate = try want - golden.tensor("state." + name)
            let rounding = 2 * (want.values.map(abs).max() ?? 0).ulp
            updates.note(try expectClose(update, wantUpdate, "update of \(name)", allowance: rounding))
        }
        for (name, buffer) in model.namedBuffers {
            worst.note(try expectClose(buffer, golden.tensor("expected.state." + name), "\(name) after the step"))
        }
        print("objective golden step \(objectiveName) \(modelName): loss \(result.loss) (robust term \(golden.file.metadata["robust_term"] ?? "?")); worst \(worst); updates \(updates)")
    }

    /// The inner maximisation from the file's start (in eval mode, as in training).
    func attack(_ objectiveName: String, _ modelName: String) throws {
        let golden = try Golden(objective: objectiveName, model: modelName)
        let model = try golden.model()
        let objective = try XCTUnwrap(try golden.objective() as? AdversarialObjective)
        model.train()
        let adversarial = try objective.adversarialExamples(model: model, images: golden.tensor("input"), labels: golden.labels(),
                                                            start: golden.tensor("start"))
        XCTAssertTrue(model.isTraining, "the attack restores training mode")
        let deviation = try expectClose(adversarial, golden.tensor("expected.adversarial"), "adversarial examples")
        print("objective golden attack \(objectiveName) \(modelName): sign margin \(golden.file.metadata["sign_margin"] ?? "?"); worst \(Deviation(deviation))")
    }

    /// max |got − want| / max |want| of one tensor (and which), checked against the tolerance
    /// (plus `allowance`, an absolute rounding bound).
    func expectClose(_ got: Tensor, _ want: Tensor, _ what: String, allowance: Float = 0,
                     file: StaticString = #filePath, line: UInt = #line) throws -> (Float, String) {
        XCTAssertEqual(got.shape, want.shape, what, file: file, line: line)
        let scale = max(want.values.map(abs).max() ?? 0, 1e-12)
        let difference = zip(got.values, want.values).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(difference, tolerance * scale + allowance, "\(what): max difference \(difference), scale \(scale)",
                                 file: file, line: line)
        return (difference / scale, what)
    }
}

/// The largest relative deviation seen in a test, for its printed summary.
struct Deviation: CustomStringConvertible {
    var value: Float = 0, what = "nothing"
    init() {}
    init(_ first: (Float, String)) { note(first) }
    mutating func note(_ deviation: (Float, String)) { if deviation.0 >= value { (value, what) = deviation } }
    var description: String { "max|diff|/max|want| \(value) (\(what))" }
}

/// Feeds the objective's outer loss fixed adversarial examples, so the Trainer's own step runs on
/// exactly PyTorch's.
struct GivenAdversarialExamples: TrainingObjective {
    let objective: AdversarialObjective
    let adversarial: Tensor
    func loss(model: ImageClassifier, images: Tensor, labels: [Int]) throws -> (loss: Tensor, logits: Tensor) {
        try objective.loss(model: model, images: images, adversarial: adversarial, labels: labels)
    }
}

/// One golden file of objective_golden.py, written on first use per (objective, model) and shared
/// by that pair's step and attack tests.
struct Golden {
    nonisolated(unsafe) static var cache: [String: SafeTensorsFile] = [:]
    let file: SafeTensorsFile
    let path: String

    init(objective: String, model: String) throws {
        let key = "\(objective)-\(model)"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rt-objective-golden-\(getpid())-\(key).safetensors").path
        if let cached = Self.cache[key] {
            file = cached
        } else {
            let python = try TorchReference.python()
            defer { try? FileManager.default.removeItem(atPath: path) }
            let output = try TorchReference.run(python, [TorchReference.script("objective_golden.py"),
                                                         "--objective", objective, "--model", model, "--out", path])
            print(output.trimmingCharacters(in: .whitespacesAndNewlines))
            file = try SafeTensors.read(path)
            Self.cache[key] = file
        }
        self.path = path
    }

    func tensor(_ name: String) throws -> Tensor { try XCTUnwrap(file[name], "golden file has no \(name)").copy() }
    func labels() throws -> [Int] { try tensor("labels").values.map { Int($0) } }
    func float(_ key: String) throws -> Float { try XCTUnwrap(file.metadata[key].flatMap(Float.init), "golden file has no \(key)") }

    /// The model with the file's weights and running statistics.
    func model() throws -> ImageClassifier {
        let model = try ModelZoo.make(Checkpoint.description(of: file, path: path), seed: 0)
        let state = SafeTensorsFile(tensors: file.tensors.compactMap { name, tensor in
            name.hasPrefix("state.") ? (String(name.dropFirst("state.".count)), tensor.copy()) : nil
        })
        try model.load(state, path: path)
        return model
    }

    /// The objective as `rt train --objective` builds it, with the file's settings.
    func objective() throws -> TrainingObjective {
        let name = try XCTUnwrap(file.metadata["objective"])
        let kind = try XCTUnwrap(ObjectiveSettings.Kind(rawValue: name))
        if kind == .crossEntropy { return ObjectiveSettings(kind: kind).makeObjective(seed: 0) }
        let settings = ObjectiveSettings(kind: kind, beta: kind == .pgdAT ? nil : try float("beta"), eps: try float("eps"),
                                         steps: try XCTUnwrap(file.metadata["steps"].flatMap { Int($0) }), stepSize: try float("step_size"))
        try settings.validate()
        return settings.makeObjective(seed: 0)
    }
}
