import Datasets
import Foundation
import NeuralNetworks
import TensorEngine
import XCTest
@testable import Robustness

/// AutoAttack's rand version (APGD-CE and APGD-DLR with expectation over transformation) on the
/// fixture models, fixed seeds: eps 0 harmless, budgets respected, EOT's mean gradient is the mean
/// of its passes' gradients, and on a deterministic model averaging changes nothing, so the
/// ensemble matches its standalone components example by example.
final class AutoAttackRandTests: XCTestCase {
    func spec(_ kind: AttackKind, _ norm: AttackNorm = .linf, eps: Float, steps: Int = 10, eot: Int? = nil) -> AttackSpec {
        AttackSpec(kind: kind, norm: norm, eps: eps, steps: steps, seed: 3, eotIterations: eot)
    }

    /// A randomised model: the fixture behind Gaussian noise on its logits, drawn from a generator
    /// the test can rewind (a stand-in for a defence with randomness, as in AutoAttack's check).
    final class Noise {
        var generator: RandomGenerator
        let std: Float
        init(seed: UInt64, std: Float) { (generator, self.std) = (RandomGenerator(seed: seed), std) }
        func model(_ inner: ImageClassifier) throws -> WrappedClassifier {
            try WrappedClassifier(inner) { [self] logits in try logits + Tensor.normal(logits.shape, std: std, generator: &generator) }
        }
    }

    func testZeroBudgetGivesCleanAccuracyExactly() throws {
        let model = Fixtures.trainedModel
        let data = try Fixtures.testData(for: model, limit: 48)
        for norm in AttackNorm.allCases {
            let attacks = [spec(.apgdDLR, norm, eps: 0, steps: 4), spec(.autoattackRand, norm, eps: 0, steps: 4, eot: 3)]
            let report = try RobustnessEvaluator(batchSize: 32).evaluate(model, on: data, attacks: attacks)
            for result in report.results {
                XCTAssertEqual(result.robustAccuracy, report.cleanAccuracy, "\(result.attack) \(norm)")
                XCTAssertEqual(result.correct, report.cleanCorrect, "\(result.attack) \(norm)")
                for component in result.components ?? [] { XCTAssertEqual(component.correct, report.cleanCorrect, component.attack) }
            }
            XCTAssertEqual(report.results[1].components?.map(\.attack), ["apgd-ce", "apgd-dlr"])
            XCTAssertEqual(report.results[1].eotIterations, 3)
        }
    }

    /// The averaged gradient is the mean of the passes' gradients: the same passes, rewound and
    /// taken one at a time, then averaged by hand. The logits and losses are the last pass's.
    func testEOTGradientIsTheMeanOfItsPasses() throws {
        let noise = Noise(seed: 11, std: 0.5)
        let model = try noise.model(Fixtures.trainedModel)
        let (x, labels) = try Fixtures.batch(8, for: model)
        for loss in [AttackLoss.crossEntropy(labels: labels), .dlr(labels: labels)] {
            let passes = 5
            let start = noise.generator
            model.resetCounts()
            let averaged = try AttackScope.run(model) { try AutoPGD.evaluate(model, at: x, loss: loss, eotIterations: passes) }
            XCTAssertEqual(model.calls, passes, "one forward pass per EOT iteration")
            noise.generator = start
            var sum = [Float](repeating: 0, count: x.count)
            var last: AutoPGD.Evaluation?
            for _ in 0..<passes {
                let single = try AttackScope.run(model) { try AutoPGD.evaluate(model, at: x, loss: loss) }
                for (i, g) in single.gradient.values.enumerated() { sum[i] += g }
                last = single
            }
            let scale = sum.map { abs($0) }.max()! / Float(passes)
            XCTAssertGreaterThan(scale, 0)
            for (got, want) in zip(averaged.gradient.values, sum.map { $0 / Float(passes) }) {
                XCTAssertEqual(got, want, accuracy: 1e-6 * scale, "\(loss)")
            }
            XCTAssertEqual(averaged.logits.values, last!.logits.values, "the last pass's logits")
            XCTAssertEqual(averaged.values, last!.values)
            // The passes differ: the model is random, so EOT has something to average.
            noise.generator = start
            let first = try AttackScope.run(model) { try AutoPGD.evaluate(model, at: x, loss: loss) }
            XCTAssertNotEqual(first.gradient.values, averaged.gradient.values)
        }
    }

    /// A deterministic model gives every pass the same gradient, so the mean has the same signs:
    /// under L∞ APGD with 20 passes takes exactly the steps of APGD with one, and autoattack-rand's
    /// components agree example by example with apgd-ce and apgd-dlr run alone with the same seed.
    func testOnADeterministicModelEOTChangesNothing() throws {
        let model = Fixtures.trainedModel
        let (x, labels) = try Fixtures.batch(64, for: model)
        for objective in [AutoPGDObjective.crossEntropy, .dlr] {
            let one = try AutoPGD.run(model, images: x, labels: labels, settings: AutoPGDSettings(eps: 8 / 255, steps: 10, objective: objective, seed: 2))
            let twenty = try AutoPGD.run(model, images: x, labels: labels, settings: AutoPGDSettings(eps: 8 / 255, steps: 10, objective: objective,
                                                                                                    eotIterations: 20, seed: 2))
            XCTAssertEqual(one.images.values, twenty.images.values, "\(objective)")
            XCTAssertEqual(one.output.values, twenty.output.values, "\(objective)")
        }

        let data = try Fixtures.testData(for: model, limit: 128)
        for (norm, eps) in [(AttackNorm.linf, Float(4) / 255), (.l2, 0.5)] {
            let attacks = [spec(.apgdCE, norm, eps: eps), spec(.apgdDLR, norm, eps: eps), spec(.autoattackRand, norm, eps: eps)]
            let report = try RobustnessEvaluator(batchSize: 64).evaluate(model, on: data, attacks: attacks)
            let (ce, dlr, rand) = (report.results[0], report.results[1], report.results[2])
            let components = try XCTUnwrap(rand.components)
            print("\(norm) eps \(eps): apgd-ce \(ce.robustAccuracy), apgd-dlr \(dlr.robustAccuracy), autoattack-rand \(components.map(\.robustAccuracy))")
            XCTAssertEqual(rand.eotIterations, AutoAttackSettings.randEOTIterations)
            XCTAssertEqual(components[0].correct, ce.correct, "\(norm): the first component is APGD-CE alone")
            XCTAssertEqual(rand.correct, zip(ce.correct, dlr.correct).map { $0 && $1 }, "\(norm): robust only where both fail")
            XCTAssertEqual(components[1].correct, rand.correct)
            XCTAssertLessThanOrEqual(components[1].robustAccuracy, components[0].robustAccuracy)
            XCTAssertTrue(report.warnings.contains { $0.contains("autoattack-rand on a model whose outputs are the same") }, "\(report.warnings)")
        }
    }

    /// On a randomised model every point stays in the eps-ball and in [0, 1], and APGD makes
    /// (steps + 1) × eotIterations forward passes per run when nothing is broken.
    func testBudgetsOnARandomisedModel() throws {
        let noise = Noise(seed: 5, std: 0.3)
        let model = try noise.model(Fixtures.trainedModel)
        let (x, labels) = try Fixtures.batch(32, for: model)
        for (norm, eps) in [(AttackNorm.linf, Float(8) / 255), (.l2, 0.5)] {
            let batch = try AutoAttack.run(model, images: x, labels: labels, settings: AutoAttackSettings(norm: norm, eps: eps, steps: 5, version: .rand,
                                                                                                        eotIterations: 4, seed: 1)).adversarial
            Fixtures.assertInBall(batch.images, around: x, norm: norm, eps: eps, "autoattack-rand \(norm)")
        }
        // At eps 0 nothing breaks (up to noise on the clean input, which the clean logits already judged).
        let deterministic = try WrappedClassifier(Fixtures.trainedModel)
        let clean = try withoutGradients { try AttackScope.run(deterministic) { try deterministic(x) } }
        let attacked = labels.indices.filter { clean.predictedClass(row: $0) == labels[$0] }.count
        XCTAssertGreaterThan(attacked, 0)
        for (steps, eot) in [(1, 1), (5, 3), (4, 20)] {
            deterministic.resetCounts()
            _ = try AutoPGD.run(deterministic, images: x, labels: labels, settings: AutoPGDSettings(eps: 0, steps: steps, objective: .dlr,
                                                                                                    eotIterations: eot, seed: 1), cleanLogits: clean)
            XCTAssertEqual(deterministic.calls, (steps + 1) * eot, "\(steps) steps, \(eot) passes each")
            XCTAssertEqual(deterministic.images, (steps + 1) * eot * attacked)
        }
    }

    func testRandomisedModelWarnings() throws {
        let data = try Fixtures.testData(for: Fixtures.trainedModel, limit: 32)
        let noisy = try Noise(seed: 4, std: 0.1).model(Fixtures.trainedModel)
        let plain = try RobustnessEvaluator().evaluate(noisy, on: data, attacks: [AttackSpec(kind: .pgd, eps: 2 / 255, steps: 2)])
        XCTAssertTrue(plain.warnings.contains { $0.contains("randomised") && $0.contains("use autoattack-rand") }, "\(plain.warnings)")
        let withRand = try RobustnessEvaluator().evaluate(noisy, on: data, attacks: [spec(.autoattackRand, eps: 2 / 255, steps: 2, eot: 2)])
        XCTAssertTrue(withRand.warnings.contains { $0.contains("randomised") && $0.contains("here autoattack-rand") }, "\(withRand.warnings)")
        XCTAssertFalse(withRand.warnings.contains { $0.contains("outputs are the same") }, "\(withRand.warnings)")
    }

    func testBadInputFailsBeforeAnyWork() {
        func failure(_ spec: AttackSpec) -> String {
            do { try spec.validate(); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(failure(spec(.autoattackRand, eps: 0.1, eot: 0)).hasPrefix("eot-iterations:"))
        XCTAssertTrue(failure(spec(.apgdDLR, eps: 0.1, eot: 0)).hasPrefix("eot-iterations:"))
        XCTAssertTrue(failure(spec(.pgd, eps: 0.1, eot: 20)).hasPrefix("eot-iterations:"), "PGD does not average")
        XCTAssertTrue(failure(spec(.autoattack, eps: 0.1, eot: 20)).contains("use autoattack-rand"))
        XCTAssertTrue(failure(AttackSpec(kind: .autoattackRand, eps: 0.1, queries: 100)).hasPrefix("queries:"), "the rand version has no Square")
        XCTAssertTrue(failure(AttackSpec(kind: .autoattackRand, eps: 0.1, stepSize: 0.01)).hasPrefix("step-size:"))
        XCTAssertTrue(failure(spec(.autoattackRand, .l2, eps: -1)).hasPrefix("eps:"))
        XCTAssertEqual(AttackKind(rawValue: "autoattack-rand"), .autoattackRand)
        XCTAssertEqual(spec(.autoattackRand, eps: 0.1).resolvedEOTIterations, 20)
        XCTAssertEqual(spec(.apgdCE, eps: 0.1).resolvedEOTIterations, 1)
    }
}
