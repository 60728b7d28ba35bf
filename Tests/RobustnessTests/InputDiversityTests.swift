import Datasets
import Foundation
import NeuralNetworks
import Study
import TensorEngine
import XCTest
@testable import Robustness

/// DI-MI-FGSM (input diversity, Xie et al. 2019): p = 0 is MI-FGSM exactly; eps 0 the clean
/// accuracy; iterates in the eps-box and [0, 1]; the draws follow torchattacks' definition; the
/// gradient flows through the resize and pad; seeded; bad input named before any work.
final class InputDiversityTests: XCTestCase {
    func testZeroProbabilityIsMIFGSMExactly() throws {
        let model = Fixtures.trainedModel
        let (x, labels) = try Fixtures.batch(64, for: model)
        let eps: Float = 8 / 255
        var plain = PGDSettings.miFGSM(eps: eps, steps: 6)
        plain.seed = 3
        var diverse = PGDSettings.diMIFGSM(eps: eps, steps: 6, diversity: InputDiversity(probability: 0))
        diverse.seed = 3
        let a = try ProjectedGradientAttack.run(model, images: x, loss: .crossEntropy(labels: labels), settings: plain)
        let b = try ProjectedGradientAttack.run(model, images: x, loss: .crossEntropy(labels: labels), settings: diverse)
        XCTAssertEqual(a.images.values, b.images.values)
        XCTAssertEqual(a.output.values, b.output.values)

        // Through the evaluator, by name, with the same seed: the same masks.
        let data = try Fixtures.testData(for: model, limit: 96)
        let report = try RobustnessEvaluator(batchSize: 40).evaluate(model, on: data, attacks: [
            AttackSpec(kind: .mifgsm, eps: eps, steps: 5, seed: 2),
            AttackSpec(kind: .diMIFGSM, eps: eps, steps: 5, seed: 2, diversity: InputDiversity(probability: 0)),
        ])
        XCTAssertEqual(report.results[0].correct, report.results[1].correct)
        XCTAssertEqual(report.results[1].attack, "di-mifgsm")
    }

    func testZeroBudgetGivesCleanAccuracyExactly() throws {
        let model = Fixtures.trainedModel
        let data = try Fixtures.testData(for: model, limit: 96)
        let report = try RobustnessEvaluator(batchSize: 40).evaluate(model, on: data, attacks: [
            AttackSpec(kind: .diMIFGSM, eps: 0), AttackSpec(kind: .diMIFGSM, eps: 0, diversity: InputDiversity(probability: 1)),
        ])
        for result in report.results {
            XCTAssertEqual(result.robustAccuracy, report.cleanAccuracy)
            XCTAssertEqual(result.correct, report.cleanCorrect)
        }
    }

    /// Iterates stay in the L∞ box and [0, 1] with diverse inputs (always, and half the time), the
    /// attack moves the image, and with p = 1 it moves it differently from MI-FGSM.
    func testIteratesStayInTheBoxAndTheImageRange() throws {
        let model = Fixtures.trainedModel
        let (x, labels) = try Fixtures.batch(64, for: model)
        let eps: Float = 8 / 255
        let plain = try ProjectedGradientAttack.run(model, images: x, loss: .crossEntropy(labels: labels), settings: .miFGSM(eps: eps, steps: 5))
        for p: Float in [0.5, 1] {
            var settings = PGDSettings.diMIFGSM(eps: eps, steps: 5, diversity: InputDiversity(probability: p))
            settings.seed = 1
            let adv = try ProjectedGradientAttack.run(model, images: x, loss: .crossEntropy(labels: labels), settings: settings).images
            let a = adv.values, c = x.values
            XCTAssertTrue(a.allSatisfy { (0...1).contains($0) }, "p \(p): pixels outside [0, 1]")
            XCTAssertLessThanOrEqual(zip(a, c).map { abs($0 - $1) }.max()!, eps + 1e-6, "p \(p): outside the L∞ box")
            XCTAssertGreaterThan(zip(a, c).map { abs($0 - $1) }.max()!, 0, "p \(p): did not move")
            if p == 1 { XCTAssertNotEqual(a, plain.images.values, "every gradient at a resized input must change the result") }
        }
    }

    /// The same seed gives the same examples; another seed other draws.
    func testSeeded() throws {
        let model = Fixtures.trainedModel
        let (x, labels) = try Fixtures.batch(32, for: model)
        func attack(seed: UInt64) throws -> [Float] {
            var settings = PGDSettings.diMIFGSM(eps: 8 / 255, steps: 4, diversity: InputDiversity(probability: 1))
            settings.seed = seed
            return try ProjectedGradientAttack.run(model, images: x, loss: .crossEntropy(labels: labels), settings: settings).images.values
        }
        XCTAssertEqual(try attack(seed: 5), try attack(seed: 5))
        XCTAssertNotEqual(try attack(seed: 5), try attack(seed: 6))
    }

    /// torchattacks' DIFGSM: side in [⌊0.9·12⌋, 12) = {10, 11}, top and left in [0, 12 − side), applied
    /// with probability p (1,000 seeded draws).
    func testDrawsFollowTheDefinition() throws {
        let diversity = InputDiversity()
        XCTAssertEqual(diversity.smallestSide(12), 10)
        XCTAssertEqual(diversity.smallestSide(28), 25)
        var generator = RandomGenerator(seed: 7)
        var applied = 0, sides = Set<Int>(), tops = Set<Int>()
        for _ in 0..<1000 {
            guard let placement = diversity.draw(side: 12, generator: &generator) else { continue }
            applied += 1
            XCTAssertTrue((10..<12).contains(placement.size))
            XCTAssertTrue((0..<(12 - placement.size)).contains(placement.top))
            XCTAssertTrue((0..<(12 - placement.size)).contains(placement.left))
            sides.insert(placement.size)
            tops.insert(placement.top)
        }
        XCTAssertEqual(Double(applied) / 1000, 0.5, accuracy: 0.05)
        XCTAssertEqual(sides, [10, 11])
        XCTAssertEqual(tops, [0, 1])
        var never = RandomGenerator(seed: 8), always = RandomGenerator(seed: 8)
        for _ in 0..<100 {
            XCTAssertNil(InputDiversity(probability: 0).draw(side: 12, generator: &never))
            XCTAssertNotNil(InputDiversity(probability: 1).draw(side: 12, generator: &always))
        }
    }

    /// The transformed batch is the resized image at (top, left) among zeros, and the input gradient
    /// of an attack step flows back through it: finite differences of the summed cross-entropy of a
    /// linear model (smooth, so central differences are accurate; a ReLU network's kinks are not).
    func testTheModelSeesTheResizedPaddedImageAndItsGradientFlowsBack() throws {
        var weights = RandomGenerator(seed: 12)
        let model = try LinearBinaryClassifier(w: (0..<144).map { _ in weights.nextNormal() }, b: 0.1, inputShape: [1, 12, 12])
        let (x, _) = try Fixtures.batch(4, for: Fixtures.trainedModel)
        let labels = [0, 1, 1, 0]
        let placement = InputDiversity.Placement(size: 10, top: 1, left: 0)
        let seen = try InputDiversity.apply(placement, to: x)
        let resized = try x.resizedBilinear(height: 10, width: 10)
        for plane in 0..<4 {
            for i in 0..<12 {
                for j in 0..<12 {
                    let want: Float = (1..<11).contains(i) && j < 10 ? resized.pointer[plane * 100 + (i - 1) * 10 + j] : 0
                    XCTAssertEqual(seen.pointer[plane * 144 + i * 12 + j], want)
                }
            }
        }
        XCTAssertTrue(try InputDiversity.apply(nil, to: x) === x)

        let loss = AttackLoss.crossEntropy(labels: labels)
        let gradient = try AttackScope.run(model) { try ProjectedGradientAttack.inputGradient(model, at: x, loss: loss, placement: placement) }
        func total(_ images: Tensor) throws -> Double {
            try AttackScope.run(model) {
                try withoutGradients {
                    let logits = try model(try InputDiversity.apply(placement, to: images))
                    var sum = 0.0
                    for (r, y) in labels.enumerated() {
                        let row = (0..<logits.shape[1]).map { Double(logits.pointer[r * logits.shape[1] + $0]) }
                        let top = row.max()!
                        sum += log(row.map { exp($0 - top) }.reduce(0, +)) + top - row[y]
                    }
                    return sum
                }
            }
        }
        var picker = RandomGenerator(seed: 3)
        var checked = 0
        for _ in 0..<40 {
            let i = picker.nextInt(below: x.count)
            let saved = x.pointer[i], h: Float = 1e-2
            x.pointer[i] = saved + h
            let plus = try total(x)
            x.pointer[i] = saved - h
            let minus = try total(x)
            x.pointer[i] = saved
            let numeric = (plus - minus) / Double(2 * h)
            XCTAssertEqual(Double(gradient.pointer[i]), numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "pixel \(i)")
            checked += 1
        }
        XCTAssertEqual(checked, 40)
        // Pixels of the last row and column are resampled into the 10×10 image too: no pixel is cut off.
        XCTAssertGreaterThan((0..<4).map { abs(gradient.pointer[$0 * 144 + 143]) }.max()!, 0)
    }

    func testBadInputIsNamedBeforeAnyWork() throws {
        func name(_ body: () throws -> Void) -> String? {
            do { try body() } catch let RobustnessError.invalidSetting(name, _) { return name } catch { return "\(error)" }
            return nil
        }
        XCTAssertEqual(name { try AttackSpec(kind: .diMIFGSM, eps: 0.1, diversity: InputDiversity(probability: 1.5)).validate() }, "diversity-prob")
        XCTAssertEqual(name { try AttackSpec(kind: .diMIFGSM, eps: 0.1, diversity: InputDiversity(probability: -0.1)).validate() }, "diversity-prob")
        XCTAssertEqual(name { try AttackSpec(kind: .diMIFGSM, eps: 0.1, diversity: InputDiversity(resizeRate: 1)).validate() }, "resize-rate")
        XCTAssertEqual(name { try AttackSpec(kind: .diMIFGSM, eps: 0.1, diversity: InputDiversity(resizeRate: 0)).validate() }, "resize-rate")
        XCTAssertEqual(name { try AttackSpec(kind: .pgd, eps: 0.1, diversity: InputDiversity()).validate() }, "diversity-prob")
        XCTAssertThrowsError(try AttackSpec(kind: .diMIFGSM, norm: .l2, eps: 0.1).validate()) { error in
            XCTAssertEqual(error as? RobustnessError, .unsupportedNorm(attack: "di-mifgsm", norm: "l2", supported: ["linf"]))
        }
        // ⌊0.05 · 12⌋ = 0: nothing left of the image; found by the evaluator before any attack.
        let model = Fixtures.trainedModel
        let data = try Fixtures.testData(for: model, limit: 8)
        XCTAssertEqual(name { _ = try RobustnessEvaluator().evaluate(model, on: data, attacks: [
            AttackSpec(kind: .diMIFGSM, eps: 0.1, diversity: InputDiversity(resizeRate: 0.05))]) }, "resize-rate")
        XCTAssertThrowsError(try InputDiversity().validate(imageShape: [1, 12, 10])) { error in
            guard case .incompatible = error as? RobustnessError else { return XCTFail("\(error)") }
        }
    }

    /// Crafted on another model's features (the study's transfer from the pre-trained model).
    func testTransferFromAnotherModelsFeatures() throws {
        let target = Fixtures.trainedModel
        var sourceConfiguration = Fixtures.configuration(epochs: 3)
        sourceConfiguration.seed = 8
        let source = try TrainingRun(sourceConfiguration).run(saveTo: nil).model
        let data = try Fixtures.testData(for: target, limit: 64)
        let specs = [AttackSpec(kind: .diMIFGSM, eps: 16 / 255, steps: 5), AttackSpec(kind: .diMIFGSM, eps: 0, steps: 5)]
        let report = try RobustnessEvaluator().evaluate(target, on: data, attacks: specs, craftingModel: source, craftingSpace: .features)
        XCTAssertLessThan(report.results[0].robustAccuracy, report.cleanAccuracy, "transferred examples hurt the target")
        XCTAssertEqual(report.results[1].robustAccuracy, report.cleanAccuracy, "eps 0 transfers nothing")
    }
}
