import Datasets
import NeuralNetworks
import TensorEngine
import XCTest
@testable import Robustness

final class AnalysisTests: XCTestCase {
    func gram(_ x: [Float], _ m: Int, _ p: Int) -> [Float] {
        var k = [Float](repeating: 0, count: m * m)
        for i in 0..<m { for j in 0..<m { for f in 0..<p { k[i * m + j] += x[i * p + f] * x[j * p + f] } } }
        return k
    }

    /// CKA is 1 for a representation and any rotation/scaling of it, and near 0 for independent noise.
    func testLinearCKAInvariancesAndIndependence() {
        var generator = RandomGenerator(seed: 4)
        let (m, p) = (64, 6)
        let x = (0..<m * p).map { _ in generator.nextNormal() }
        // An orthogonal map (a rotation in the first two coordinates) times 3.
        let (c, s): (Float, Float) = (0.6, 0.8)
        var y = x
        for i in 0..<m {
            let (a, b) = (x[i * p], x[i * p + 1])
            y[i * p] = 3 * (c * a - s * b); y[i * p + 1] = 3 * (s * a + c * b)
            for f in 2..<p { y[i * p + f] = 3 * x[i * p + f] }
        }
        let noise = (0..<m * p).map { _ in generator.nextNormal() }
        func cka(_ a: [Float], _ b: [Float]) -> Double {
            var accumulator = LinearCKAAccumulator()
            let (ka, kb) = (gram(a, m, p), gram(b, m, p))
            accumulator.add(gramA: ka, gramB: kb, count: m)
            return accumulator.value!
        }
        XCTAssertEqual(cka(x, x), 1, accuracy: 1e-9)
        XCTAssertEqual(cka(x, y), 1, accuracy: 1e-4)
        XCTAssertLessThan(abs(cka(x, noise)), 0.15)
    }

    /// A model compared with itself is identical at every stage (CKA and SVCCA 1); two different
    /// models are less alike. Asking for one measure computes only that one.
    func testStageSimilarityOfModels() throws {
        let model = Fixtures.trainedModel
        let data = try Fixtures.testData(for: model, limit: 100)
        let same = try RepresentationSimilarity.compare(model, model, on: data, batchSize: 50)
        XCTAssertEqual(same.map(\.stage), ["conv1", "conv2", "fc1"])
        for s in same {
            XCTAssertEqual(try XCTUnwrap(s.cka), 1, accuracy: 1e-6, s.stage)
            XCTAssertEqual(try XCTUnwrap(s.svcca).value, 1, accuracy: 1e-6, s.stage)
        }
        let untrained = try ModelZoo.make(model.modelDescription, seed: 99)
        let different = try RepresentationSimilarity.compare(model, untrained, on: data, batchSize: 50)
        XCTAssertLessThan(try XCTUnwrap(different.last!.cka), 0.99)
        XCTAssertLessThan(try XCTUnwrap(different.last!.svcca).value, 0.99)
        let ckaOnly = try RepresentationSimilarity.compare(model, untrained, on: data, batchSize: 50, measures: [.cka])
        XCTAssertEqual(ckaOnly.map(\.cka), different.map(\.cka))
        XCTAssertTrue(ckaOnly.allSatisfy { $0.svcca == nil })
        let svccaOnly = try RepresentationSimilarity.compare(model, untrained, on: data, batchSize: 50, measures: [.svcca])
        XCTAssertEqual(svccaOnly.map(\.svcca), different.map(\.svcca))
        XCTAssertTrue(svccaOnly.allSatisfy { $0.cka == nil })
    }

    /// The transform inverts itself, low + high pass is the identity, and a pure cosine's power sits at its radius.
    func testFourierFiltersAndRadialSpectrum() throws {
        var generator = RandomGenerator(seed: 2)
        let images = Tensor.uniform([2, 1, 10, 12], generator: &generator)
        let low = FrequencyAnalysis.filter(images, radius: 3, pass: .low)
        let high = FrequencyAnalysis.filter(images, radius: 3, pass: .high)
        let all = FrequencyAnalysis.filter(images, radius: 100, pass: .low)
        for i in 0..<images.count {
            XCTAssertEqual(low.pointer[i] + high.pointer[i], images.pointer[i], accuracy: 1e-5)
            XCTAssertEqual(all.pointer[i], images.pointer[i], accuracy: 1e-5)
        }
        XCTAssertTrue(FrequencyAnalysis.filter(images, radius: 100, pass: .high).values.allSatisfy { abs($0) < 1e-5 })

        let wave = Tensor(shape: [1, 1, 16, 16]) { out in
            for y in 0..<16 { for x in 0..<16 { out[y * 16 + x] = Float(cos(2 * Double.pi * 3 * Double(x) / 16)) } }
        }
        var bins: [Double] = []
        FrequencyAnalysis.accumulateRadialPower(wave, into: &bins)
        XCTAssertEqual(bins.indices.max { bins[$0] < bins[$1] }, 3)
    }

    /// Keeping every frequency changes nothing; the attack's spectrum is reported per radius.
    func testFrequencyAnalysisOfAModel() throws {
        let model = Fixtures.trainedModel
        let data = try Fixtures.testData(for: model, limit: 64)
        let report = try FrequencyAnalysis.run(model, on: data, radii: [2, 100], attack: AttackSpec(kind: .pgd, eps: 8 / 255, steps: 3))
        XCTAssertEqual(report.lowPass[1].accuracy, report.cleanAccuracy)
        XCTAssertLessThanOrEqual(report.lowPass[0].accuracy, 1)
        let spectrum = try XCTUnwrap(report.perturbationSpectrum)
        XCTAssertEqual(spectrum.count, DiscreteFourierTransform2D(height: 12, width: 12).maximumRadiusBin + 1)
        XCTAssertTrue(spectrum.allSatisfy { $0 >= 0 } && spectrum.contains { $0 > 0 })
    }
}
