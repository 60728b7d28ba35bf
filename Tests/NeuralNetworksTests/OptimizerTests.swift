import XCTest
import TensorEngine
@testable import NeuralNetworks

/// Optimizer and schedule steps against values worked out by hand with PyTorch's update rules.
final class OptimizerTests: XCTestCase {
    func parameterWithGradient(_ value: Float, _ grad: Float) throws -> Tensor {
        let p = try Tensor(shape: [1], values: [value])
        p.requiresGrad = true
        p.grad = try Tensor(shape: [1], values: [grad])
        return p
    }

    func testSGDMomentumAndWeightDecay() throws {
        let p = try parameterWithGradient(1, 0.5)
        let sgd = SGD(groups: [ParameterGroup(parameters: [("p", p)], learningRate: 0.1, weightDecay: 0.01)], momentum: 0.9)
        sgd.step()
        // d = 0.5 + 0.01·1 = 0.51; b = d; p = 1 − 0.1·0.51
        XCTAssertEqual(p.item, 0.949, accuracy: 1e-6)
        sgd.step()
        // d = 0.5 + 0.01·0.949 = 0.50949; b = 0.9·0.51 + 0.50949 = 0.96849; p = 0.949 − 0.096849
        XCTAssertEqual(p.item, 0.852151, accuracy: 1e-6)
    }

    func testSGDNesterov() throws {
        let p = try parameterWithGradient(1, 0.5)
        let sgd = SGD(groups: [ParameterGroup(parameters: [("p", p)], learningRate: 0.1)], momentum: 0.9, nesterov: true)
        sgd.step()
        // b = 0.5; step = 0.5 + 0.9·0.5 = 0.95
        XCTAssertEqual(p.item, 0.905, accuracy: 1e-6)
        sgd.step()
        // b = 0.9·0.5 + 0.5 = 0.95; step = 0.5 + 0.9·0.95 = 1.355
        XCTAssertEqual(p.item, 0.905 - 0.1355, accuracy: 1e-6)
    }

    func testAdamAndAdamW() throws {
        let p = try parameterWithGradient(1, 0.5)
        let adam = Adam(groups: [ParameterGroup(parameters: [("p", p)], learningRate: 0.01, weightDecay: 0.1)])
        adam.step()
        // g = 0.5 + 0.1 = 0.6; m̂ = 0.6, v̂ = 0.36 → step = lr · 0.6 / (0.6 + 1e-8)
        XCTAssertEqual(p.item, 0.99, accuracy: 1e-6)
        let q = try parameterWithGradient(1, 0.5)
        let adamw = Adam(groups: [ParameterGroup(parameters: [("q", q)], learningRate: 0.01, weightDecay: 0.1)], decoupledWeightDecay: true)
        adamw.step()
        // q = 1·(1 − 0.001) − 0.01·0.5/0.5
        XCTAssertEqual(q.item, 0.989, accuracy: 1e-6)
        q.grad = try Tensor(shape: [1], values: [-0.25])
        adamw.step()
        // m = 0.9·0.5·0.1 ... worked: m = 0.05 − 0.025 = 0.025, m̂ = 0.025/0.19; v = 0.999·0.00025 + 0.001·0.0625
        let m = 0.1 * 0.5 * 0.9 + 0.1 * -0.25, v = 0.001 * 0.25 * 0.999 + 0.001 * 0.0625
        let mHat = m / (1 - 0.81), vHat = v / (1 - 0.998001)
        let expected = 0.989 * (1 - 0.001) - 0.01 * mHat / (vHat.squareRoot() + 1e-8)
        XCTAssertEqual(Double(q.item), expected, accuracy: 1e-6)
    }

    func testFrozenParametersAndGroupsWithTheirOwnRates() throws {
        let a = try parameterWithGradient(1, 1), b = try parameterWithGradient(1, 1)
        let frozen = try Tensor(shape: [1], values: [1])
        let sgd = SGD(groups: [ParameterGroup(parameters: [("a", a), ("frozen", frozen)], learningRate: 0.1),
                               ParameterGroup(parameters: [("b", b)], learningRate: 0.01)])
        sgd.learningRateFactor = 0.5
        sgd.step()
        XCTAssertEqual(a.item, 0.95, accuracy: 1e-7)
        XCTAssertEqual(b.item, 0.995, accuracy: 1e-7)
        XCTAssertEqual(frozen.item, 1)
    }

    func testSchedules() {
        XCTAssertEqual(LearningRateSchedule.constant.factor(atIteration: 1000), 1)
        let step = LearningRateSchedule.step(every: 10, gamma: 0.1)
        XCTAssertEqual(step.factor(atIteration: 9), 1, accuracy: 1e-7)
        XCTAssertEqual(step.factor(atIteration: 10), 0.1, accuracy: 1e-7)
        XCTAssertEqual(step.factor(atIteration: 25), 0.01, accuracy: 1e-7)
        let cosine = LearningRateSchedule.cosine(total: 100, floor: 0.1)
        XCTAssertEqual(cosine.factor(atIteration: 0), 1, accuracy: 1e-6)
        XCTAssertEqual(cosine.factor(atIteration: 50), 0.55, accuracy: 1e-6)
        XCTAssertEqual(cosine.factor(atIteration: 100), 0.1, accuracy: 1e-6)
        XCTAssertEqual(cosine.factor(atIteration: 150), 0.1, accuracy: 1e-6)
    }

    /// A checkpoint carries the optimizer's state: a restored optimizer takes the same next step.
    func testOptimizerStateRoundTripsThroughNamedTensors() throws {
        let makers: [([ParameterGroup]) -> OptimizerStateful] = [{ SGD(groups: $0, momentum: 0.9) }, { Adam(groups: $0) }]
        for makeOptimizer in makers {
            let original = try parameterWithGradient(1, 0.5), copy = try parameterWithGradient(1, 0.5)
            let a = makeOptimizer([ParameterGroup(parameters: [("w", original)], learningRate: 0.1)])
            a.step(); a.step()
            copy.pointer[0] = original.item
            let b = makeOptimizer([ParameterGroup(parameters: [("w", copy)], learningRate: 0.1)])
            try b.loadState(Dictionary(uniqueKeysWithValues: a.stateTensors().map { ($0.0, $0.1) }))
            a.step(); b.step()
            XCTAssertEqual(copy.item, original.item, "\(type(of: a))")
            let (name, tensor) = a.stateTensors()[0]
            XCTAssertThrowsError(try b.loadState([name + "x": tensor])) { XCTAssertTrue("\($0)".contains("wx"), "\($0)") }
        }
    }
}

final class TrainerTests: XCTestCase {
    func testNonFiniteLossIsReportedWithTheStep() throws {
        let model = try ModelZoo.make(ModelDescription(name: "small-cnn", numClasses: 2, inputShape: [1, 4, 4], mean: [0], std: [1]), seed: 0)
        let trainer = Trainer(model: model, optimizer: SGD(groups: [ParameterGroup(parameters: model.namedParameters, learningRate: 0.1)]))
        let good = Tensor(repeating: 0.5, shape: [2, 1, 4, 4])
        _ = try trainer.step(images: good, labels: [0, 1])
        let bad = Tensor(repeating: .nan, shape: [2, 1, 4, 4])
        let before = model.namedParameters.map { $0.1.values }
        XCTAssertThrowsError(try trainer.step(images: bad, labels: [0, 1])) { error in
            XCTAssertEqual(error as? TensorError, .nonFinite(what: "training loss", step: 2))
            XCTAssertTrue("\(error)".contains("step 2"))
        }
        XCTAssertEqual(model.namedParameters.map { $0.1.values }, before, "a non-finite loss never reaches the parameters")
    }
}
