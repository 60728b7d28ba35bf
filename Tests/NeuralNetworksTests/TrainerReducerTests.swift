import XCTest
import TensorEngine
@testable import NeuralNetworks

/// The trainer's side of data-parallel training, seen through a reducer that only records.
final class TrainerReducerTests: XCTestCase {
    final class Spy: GradientReducer {
        var rank: Int { 0 }
        var worldSize: Int { 2 }
        var events: [String] = []
        var names: [ObjectIdentifier: String] = [:]
        var weight: Float = 0
        func beginStep(parameters: [(String, Tensor)], weight: Float) throws {
            for (name, p) in parameters { names[ObjectIdentifier(p)] = name }
            self.weight = weight
            events.append("begin")
        }
        func gradientReady(_ parameter: Tensor) {
            XCTAssertNotNil(parameter.grad, "reported final, so it exists")
            events.append(names[ObjectIdentifier(parameter)] ?? "?")
        }
        func finishStep() throws { events.append("finish") }
        func sum(_ values: [Float]) throws -> [Float] { values.map { $0 * 2 } } // as if the other replica had the same
        func parametersUpdated(_ parameters: [(String, Tensor)], iteration: Int) throws { events.append("updated \(iteration)") }
        func averageBuffers(_ buffers: [(String, Tensor)]) throws {}
    }

    func testEveryGradientIsReportedFinalDuringBackwardLastLayerFirst() throws {
        let description = ModelDescription(name: "small-cnn", numClasses: 3, inputShape: [1, 8, 8], mean: [0.5], std: [0.3])
        let model = try ModelZoo.make(description, seed: 1)
        var generator = RandomGenerator(seed: 4)
        let images = Tensor.uniform([4, 1, 8, 8], generator: &generator)
        let spy = Spy()
        let trainer = Trainer(model: model, optimizer: SGD(groups: [ParameterGroup(parameters: model.trainableParameters, learningRate: 0.1)]),
                              reducer: spy)
        let result = try trainer.step(images: images, labels: [0, 1, 2, 0], globalCount: 8)
        XCTAssertEqual(spy.weight, 0.5, "4 of a global batch of 8")
        XCTAssertEqual(result.examples, 8, "counts are summed over replicas")
        let reported = Array(spy.events.dropFirst().prefix { $0 != "finish" })
        XCTAssertEqual(spy.events.first, "begin")
        XCTAssertEqual(Set(reported), Set(model.trainableParameters.map(\.0)), "each once, all before finishStep")
        XCTAssertEqual(reported.count, model.trainableParameters.count)
        XCTAssertTrue(reported.first?.hasPrefix("fc2") ?? false, "the head's gradient is final first: \(reported)")
        XCTAssertTrue(reported.last?.hasPrefix("conv1") ?? false, "the first layer's last: \(reported)")
        XCTAssertEqual(spy.events.last, "updated 1")
    }
}
