import Datasets
import NeuralNetworks
import Study
import TensorEngine
import XCTest
@testable import Robustness

final class AttackTests: XCTestCase {
    /// Every attack's iterates stay inside the eps-ball and inside [0, 1].
    func testPerturbationsStayWithinBudgetAndImageRange() throws {
        let model = Fixtures.trainedModel
        let (x, labels) = try Fixtures.batch(64, for: model)
        let eps: Float = 8 / 255
        let cases: [(String, AttackLoss, PGDSettings)] = [
            ("fgsm", .crossEntropy(labels: labels), .fgsm(eps: eps)),
            ("pgd linf", .crossEntropy(labels: labels), PGDSettings(eps: eps, steps: 5, restarts: 2)),
            ("pgd l2", .crossEntropy(labels: labels), PGDSettings(norm: .l2, eps: 0.5, steps: 5)),
            ("mifgsm", .crossEntropy(labels: labels), .miFGSM(eps: eps, steps: 5)),
            ("cw", .margin(labels: labels), PGDSettings(eps: eps, steps: 5)),
            ("features", .featureDistance(reference: try ProjectedGradientAttack.referenceFeatures(model, images: x)),
             PGDSettings(eps: eps, steps: 5, start: .gaussian(std: 0.001))),
        ]
        for (name, loss, settings) in cases {
            let adv = try ProjectedGradientAttack.run(model, images: x, loss: loss, settings: settings).images
            XCTAssertEqual(adv.shape, x.shape)
            let a = adv.values, c = x.values
            XCTAssertTrue(a.allSatisfy { (0...1).contains($0) }, "\(name): pixels outside [0, 1]")
            let d = c.count / x.shape[0]
            for r in 0..<x.shape[0] {
                let delta = (r * d..<(r + 1) * d).map { a[$0] - c[$0] }
                switch settings.norm {
                case .linf: XCTAssertLessThanOrEqual(delta.map(abs).max()!, eps + 1e-6, "\(name): example \(r) leaves the L∞ ball")
                case .l2: XCTAssertLessThanOrEqual(delta.reduce(0) { $0 + $1 * $1 }.squareRoot(), settings.eps * (1 + 1e-5),
                                                   "\(name): example \(r) leaves the L2 ball")
                }
            }
            XCTAssertGreaterThan(zip(a, c).map { abs($0 - $1) }.max()!, 0, "\(name) did not move at all")
        }
        let data = try Fixtures.testData(for: model, limit: 64)
        let delta = try UniversalPerturbation.craft(model, on: data, settings: .init(eps: eps, epochs: 2, batchSize: 32))
        XCTAssertEqual(delta.shape, [1, 12, 12])
        XCTAssertLessThanOrEqual(delta.values.map(abs).max()!, eps + 1e-7)
        XCTAssertTrue(UniversalPerturbation.apply(delta, to: x).values.allSatisfy { (0...1).contains($0) })
    }

    /// At eps 0 no attack may change anything: robust accuracy is the clean accuracy, exactly.
    func testZeroBudgetGivesCleanAccuracyExactly() throws {
        let model = Fixtures.trainedModel
        let data = try Fixtures.testData(for: model, limit: 96)
        let specs = [AttackSpec(kind: .fgsm, eps: 0), AttackSpec(kind: .pgd, eps: 0), AttackSpec(kind: .pgd, norm: .l2, eps: 0),
                     AttackSpec(kind: .mifgsm, eps: 0), AttackSpec(kind: .cw, eps: 0), AttackSpec(kind: .uap, eps: 0, steps: 1)]
        let report = try RobustnessEvaluator(batchSize: 40).evaluate(model, on: data, attacks: specs)
        XCTAssertGreaterThan(report.cleanAccuracy, 0.6, "the fixture model has learned the task")
        for result in report.results {
            XCTAssertEqual(result.robustAccuracy, report.cleanAccuracy, "\(result.attack) \(result.norm)")
            XCTAssertEqual(result.correct, report.cleanCorrect, "\(result.attack) \(result.norm)")
            XCTAssertEqual(result.successRate, 0)
            XCTAssertEqual(result.meanTrueConfidenceAdversarial, result.meanTrueConfidenceClean, accuracy: 1e-9)
        }
        XCTAssertEqual(report.worstCaseCorrect, report.cleanCorrect)
        XCTAssertEqual(report.warnings, [])
    }

    /// On a trained model PGD is at least as strong as FGSM, both break the plain model, and the
    /// adversarial inputs lower the true-class confidence.
    func testPGDIsAtLeastAsStrongAsFGSM() throws {
        let model = Fixtures.trainedModel
        let data = try Fixtures.testData(for: model, limit: 128)
        let eps: Float = 8 / 255
        let report = try RobustnessEvaluator().evaluate(model, on: data, attacks: [
            AttackSpec(kind: .fgsm, eps: eps), AttackSpec(kind: .pgd, eps: eps, steps: 10),
            AttackSpec(kind: .cw, eps: eps, steps: 10), AttackSpec(kind: .mifgsm, eps: eps, steps: 10)])
        let (fgsm, pgd) = (report.results[0], report.results[1])
        XCTAssertLessThanOrEqual(pgd.robustAccuracy, fgsm.robustAccuracy)
        XCTAssertGreaterThanOrEqual(pgd.successRate, fgsm.successRate)
        XCTAssertLessThan(pgd.robustAccuracy, report.cleanAccuracy, "PGD at 8/255 breaks some examples of a plainly trained model")
        XCTAssertLessThan(pgd.meanTrueConfidenceAdversarial, pgd.meanTrueConfidenceClean)
        for r in report.results {
            XCTAssertLessThanOrEqual(r.robustAccuracy, report.cleanAccuracy)
            XCTAssertGreaterThanOrEqual(r.robustAccuracy, report.worstCaseAccuracy)
        }
        XCTAssertFalse(report.warnings.contains { $0.contains("FGSM is stronger") }, "\(report.warnings)")
        XCTAssertEqual(report.curve(attack: .pgd, norm: .linf).map(\.eps), [eps])
    }

    /// Restarts keep each example's worst case: an example broken with one restart stays broken with three.
    func testRestartsNeverLowerTheSuccessRate() throws {
        let model = Fixtures.trainedModel
        let (x, labels) = try Fixtures.batch(96, for: model)
        let eps: Float = 4 / 255
        let once = try ProjectedGradientAttack.run(model, images: x, loss: .crossEntropy(labels: labels),
                                                   settings: PGDSettings(eps: eps, steps: 3, restarts: 1, seed: 11))
        let thrice = try ProjectedGradientAttack.run(model, images: x, loss: .crossEntropy(labels: labels),
                                                     settings: PGDSettings(eps: eps, steps: 3, restarts: 3, seed: 11))
        for r in 0..<labels.count { XCTAssertLessThanOrEqual(thrice.scores[r], once.scores[r], "example \(r)") }
        XCTAssertGreaterThanOrEqual(thrice.scores.filter { $0 < 0 }.count, once.scores.filter { $0 < 0 }.count)
    }

    /// A linear binary classifier breaks under L∞ exactly when its margin is below eps·‖w‖₁ (and under
    /// L2 when below eps·‖w‖₂): PGD, FGSM and MI-FGSM must reach exactly that robust accuracy.
    func testLinearClassifierMatchesTheClosedForm() throws {
        var generator = RandomGenerator(seed: 3)
        let shape = [1, 4, 4], d = 16
        let w = (0..<d).map { _ in generator.nextNormal() }
        let model = try LinearBinaryClassifier(w: w, b: -0.5 * w.reduce(0, +), inputShape: shape)
        let l1 = w.map(abs).reduce(0, +), l2 = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let eps: Float = 0.03
        // Inputs in [0.2, 0.8]: the [0, 1] clip never binds within eps, so the closed form holds.
        var pixels: [Float] = [], labels: [Int] = [], margins: [Float] = []
        while labels.count < 200 {
            let x = (0..<d).map { _ in 0.2 + 0.6 * generator.nextUniform() }
            let z = zip(w, x).map(*).reduce(0, +) - 0.5 * w.reduce(0, +)
            // Examples within rounding of a decision boundary would make the count depend on float luck.
            if abs(z) < 1e-3 || abs(abs(z) - eps * l1) < 1e-3 * l1 || abs(abs(z) - eps * l2) < 1e-3 * l2 { continue }
            pixels += x
            labels.append(z > 0 ? 1 : 0)
            margins.append(abs(z))
        }
        let images = try Tensor(shape: [labels.count] + shape, values: pixels)
        let expectLinf = margins.filter { $0 >= eps * l1 }.count
        let expectL2 = margins.filter { $0 >= eps * l2 }.count
        XCTAssertTrue((20...180).contains(expectLinf), "the closed form splits the examples (\(expectLinf) robust)")

        let cases: [(String, PGDSettings, Int)] = [
            ("pgd", PGDSettings(eps: eps, steps: 10, start: .none), expectLinf),
            ("pgd random start", PGDSettings(eps: eps, steps: 10, start: .uniform, seed: 1), expectLinf),
            ("fgsm", .fgsm(eps: eps), expectLinf),
            ("mifgsm", .miFGSM(eps: eps, steps: 10), expectLinf),
            ("pgd l2", PGDSettings(norm: .l2, eps: eps, steps: 10, start: .none), expectL2),
        ]
        for (name, settings, expected) in cases {
            let result = try ProjectedGradientAttack.run(model, images: images, loss: .crossEntropy(labels: labels), settings: settings)
            let robust = result.scores.filter { $0 > 0 }.count
            XCTAssertEqual(robust, expected, name)
        }
    }

    /// The attack leaves the model as it found it: mode and requiresGrad flags, also when it fails.
    func testModelModeAndFlagsAreRestoredEvenOnError() throws {
        let model = Fixtures.trainedModel
        let (x, labels) = try Fixtures.batch(8, for: model)
        model.train()
        model.namedParameters[0].1.requiresGrad = false
        defer { model.unfreeze(); model.eval() }
        let flags = model.namedParameters.map { $0.1.requiresGrad }
        let gradients = model.namedParameters.map { $0.1.grad?.values }
        _ = try ProjectedGradientAttack.run(model, images: x, loss: .crossEntropy(labels: labels), settings: PGDSettings(eps: 0.01, steps: 1))
        XCTAssertTrue(model.isTraining)
        XCTAssertEqual(model.namedParameters.map { $0.1.requiresGrad }, flags)
        XCTAssertEqual(model.namedParameters.map { $0.1.grad?.values }, gradients, "an attack computes input gradients only")

        let wrongShape = Tensor(zeros: [8, 1, 10, 10])
        XCTAssertThrowsError(try ProjectedGradientAttack.run(model, images: wrongShape, loss: .crossEntropy(labels: labels),
                                                             settings: PGDSettings(eps: 0.01, steps: 1)))
        XCTAssertTrue(model.isTraining)
        XCTAssertEqual(model.namedParameters.map { $0.1.requiresGrad }, flags)
    }

    /// Crafting on one model and evaluating another, on logits and on features.
    func testTransferAttacks() throws {
        let target = Fixtures.trainedModel
        var sourceConfiguration = Fixtures.configuration(epochs: 3)
        sourceConfiguration.seed = 8
        let source = try TrainingRun(sourceConfiguration).run(saveTo: nil).model
        let data = try Fixtures.testData(for: target, limit: 64)
        let eps: Float = 16 / 255
        let specs = [AttackSpec(kind: .pgd, eps: eps, steps: 5), AttackSpec(kind: .pgd, eps: 0, steps: 5)]
        for space in CraftingSpace.allCases {
            let report = try RobustnessEvaluator().evaluate(target, on: data, attacks: specs, craftingModel: source, craftingSpace: space)
            XCTAssertLessThan(report.results[0].robustAccuracy, report.cleanAccuracy, "\(space): transferred examples hurt the target")
            XCTAssertEqual(report.results[1].robustAccuracy, report.cleanAccuracy, "\(space): eps 0 transfers nothing")
        }
    }

    func testBadInputFailsBeforeAnyWork() throws {
        XCTAssertEqual(try EpsilonParser.parse("8/255"), 8 / 255)
        XCTAssertEqual(try EpsilonParser.parseList("0,1/255, 0.5"), [0, 1 / 255, 0.5])
        XCTAssertThrowsError(try EpsilonParser.parse("-1/255"))
        XCTAssertThrowsError(try EpsilonParser.parse("8/0"))
        XCTAssertThrowsError(try EpsilonParser.parse("eight"))
        XCTAssertThrowsError(try AttackSpec(kind: .fgsm, norm: .l2, eps: 0.1).validate()) { error in
            XCTAssertEqual(error as? RobustnessError, .unsupportedNorm(attack: "fgsm", norm: "l2", supported: ["linf"]))
        }
        XCTAssertThrowsError(try AttackSpec(kind: .pgd, eps: -0.1).validate())
        XCTAssertThrowsError(try AttackSpec(kind: .pgd, eps: 0.1, restarts: 0).validate())

        let model = Fixtures.trainedModel
        let twoClasses = try DatasetCatalog.load(Fixtures.dataset, split: .test).selectingClasses([0, 1])
        XCTAssertThrowsError(try RobustnessEvaluator().evaluate(model, on: twoClasses, attacks: [AttackSpec(kind: .pgd, eps: 0.1)])) { error in
            guard case .incompatible = error as? RobustnessError else { return XCTFail("\(error)") }
        }
        let (x, _) = try Fixtures.batch(4, for: model)
        XCTAssertThrowsError(try ProjectedGradientAttack.run(model, images: x, loss: .crossEntropy(labels: [0, 1, 2, 3]),
                                                             settings: PGDSettings(eps: 0.1)), "label 3 of a 3-class model")
        XCTAssertThrowsError(try withoutGradients {
            try ProjectedGradientAttack.run(model, images: x, loss: .crossEntropy(labels: [0, 1, 2, 0]), settings: PGDSettings(eps: 0.1))
        })
        let start = x.copy()
        XCTAssertThrowsError(try ProjectedGradientAttack.run(model, images: x, loss: .crossEntropy(labels: [0, 1, 2, 0]),
                                                             settings: PGDSettings(eps: 0.1, restarts: 2), start: start), "a given start is one run")
        XCTAssertThrowsError(try ProjectedGradientAttack.run(model, images: x, loss: .crossEntropy(labels: [0, 1, 2, 0]),
                                                             settings: PGDSettings(eps: 0.1), start: try start.reshaped([4, 144])))
    }

    /// A given start is the first iterate, projected like a random one: with step size 0 it is the result.
    func testGivenStartIsProjectedAndKept() throws {
        let model = Fixtures.trainedModel
        let (x, labels) = try Fixtures.batch(4, for: model)
        let eps: Float = 4 / 255
        let start = try Tensor(shape: x.shape, values: x.values.enumerated().map { $0.1 + ($0.0 % 2 == 0 ? 0.5 : -0.5) })
        let adv = try ProjectedGradientAttack.run(model, images: x, loss: .crossEntropy(labels: labels),
                                                  settings: PGDSettings(eps: eps, steps: 2, stepSize: 0), start: start).images
        let want = x.values.enumerated().map { i, v in min(max(v + (i % 2 == 0 ? eps : -eps), 0), 1) }
        XCTAssertEqual(adv.values, want)
    }
}
