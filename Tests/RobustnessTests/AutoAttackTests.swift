import Datasets
import Foundation
import NeuralNetworks
import TensorEngine
import XCTest
@testable import Robustness

/// APGD, Square and AutoAttack through the evaluator and on their own, on the fixture models
/// (fixed seeds, no timing): budgets respected, eps 0 harmless, APGD at least as strong as PGD,
/// the ensemble's worst case below each of its attacks.
final class AutoAttackTests: XCTestCase {
    static let kinds: [AttackKind] = [.apgdCE, .apgdT, .square, .autoattack]

    func spec(_ kind: AttackKind, _ norm: AttackNorm = .linf, eps: Float, steps: Int = 10, queries: Int? = nil) -> AttackSpec {
        AttackSpec(kind: kind, norm: norm, eps: eps, steps: steps, seed: 3, queries: kind == .square || kind == .autoattack ? queries : nil)
    }

    func testZeroBudgetGivesCleanAccuracyExactly() throws {
        let model = Fixtures.trainedModel
        let data = try Fixtures.testData(for: model, limit: 64)
        for norm in AttackNorm.allCases {
            let report = try RobustnessEvaluator(batchSize: 32).evaluate(model, on: data, attacks: Self.kinds.map { spec($0, norm, eps: 0, steps: 5, queries: 20) })
            for result in report.results {
                XCTAssertEqual(result.robustAccuracy, report.cleanAccuracy, "\(result.attack) \(norm)")
                XCTAssertEqual(result.correct, report.cleanCorrect, "\(result.attack) \(norm)")
                for component in result.components ?? [] { XCTAssertEqual(component.correct, report.cleanCorrect, component.attack) }
            }
            XCTAssertFalse(report.warnings.contains { $0.contains("eps 0") }, "\(report.warnings)")
        }
    }

    func testPerturbationsStayInTheBallAndInImageRange() throws {
        let model = Fixtures.trainedModel
        let (x, labels) = try Fixtures.batch(48, for: model)
        for (norm, eps) in [(AttackNorm.linf, Float(8) / 255), (.l2, 0.5)] {
            let batches = [
                try AutoPGD.run(model, images: x, labels: labels, settings: AutoPGDSettings(norm: norm, eps: eps, steps: 10, seed: 1)),
                try AutoPGD.run(model, images: x, labels: labels, settings: AutoPGDSettings(norm: norm, eps: eps, steps: 10,
                                                                                          objective: .targetedDLR(targetClasses: 9), seed: 1)),
                try SquareAttack.run(model, images: x, labels: labels, settings: SquareSettings(norm: norm, eps: eps, queries: 60, seed: 1)),
                try AutoAttack.run(model, images: x, labels: labels, settings: AutoAttackSettings(norm: norm, eps: eps, steps: 10, queries: 60, seed: 1)).adversarial,
            ]
            for (name, batch) in zip(Self.kinds.map(\.rawValue), batches) {
                Fixtures.assertInBall(batch.images, around: x, norm: norm, eps: eps, "\(name) \(norm)")
                // The returned logits are the model's on the returned images: the evaluator judges by them.
                let logits = try withoutGradients { try AttackScope.run(model) { try model(batch.images) } }
                for (got, want) in zip(batch.output.values, logits.values) { XCTAssertEqual(got, want, accuracy: 1e-4, name) }
            }
        }
    }

    /// At the same eps, norm and restarts, AutoAttack's APGD-CE (100 iterations) breaks at least as many
    /// examples as the study's PGD-10 (step 2.5·eps/10, uniform start) on the plain and the PGD-AT
    /// fixture, under both norms. With 10 iterations each the two reach the same points on these small
    /// models and random starts move the count by an example either way (measured over seeds 0-7 on
    /// the PGD-AT fixture: ±2 of 200), so there APGD may trail by at most one example.
    func testAPGDIsNeverWeakerThanPGD10() throws {
        for (name, model) in [("plain", Fixtures.trainedModel), ("pgd-at", Fixtures.robustModel)] {
            let data = try Fixtures.testData(for: model)
            let budgets: [(AttackNorm, [Float])] = [(.linf, [4 / 255, 8 / 255, 16 / 255]), (.l2, [0.25, 0.5, 1])]
            for (norm, epsilons) in budgets {
                let attacks = epsilons.flatMap { eps -> [AttackSpec] in
                    [AttackSpec(kind: .pgd, norm: norm, eps: eps, steps: 10, seed: 3), spec(.apgdCE, norm, eps: eps, steps: 100),
                     spec(.apgdCE, norm, eps: eps, steps: 10)]
                }
                let report = try RobustnessEvaluator().evaluate(model, on: data, attacks: attacks)
                for group in stride(from: 0, to: attacks.count, by: 3) {
                    let (pgd, apgd, apgd10) = (report.results[group], report.results[group + 1], report.results[group + 2])
                    print("\(name) \(norm) eps \(pgd.eps): PGD-10 \(pgd.robustAccuracy), APGD-CE-100 \(apgd.robustAccuracy), APGD-CE-10 \(apgd10.robustAccuracy)")
                    XCTAssertLessThanOrEqual(apgd.robustAccuracy, pgd.robustAccuracy, "\(name) \(norm) eps \(pgd.eps)")
                    XCTAssertLessThanOrEqual(apgd10.robustAccuracy, pgd.robustAccuracy + 1.0 / Double(data.count) + 1e-12,
                                             "\(name) \(norm) eps \(pgd.eps), 10 iterations each")
                }
            }
        }
    }

    /// Every example costs Square at most its budget of model evaluations, the initial one included;
    /// at eps 0 nothing can break, so it spends exactly the budget.
    func testSquareRespectsItsQueryBudget() throws {
        let model = try WrappedClassifier(Fixtures.trainedModel)
        let (x, labels) = try Fixtures.batch(24, for: model)
        let clean = try withoutGradients { try AttackScope.run(model) { try model(x) } }
        let attacked = labels.indices.filter { clean.predictedClass(row: $0) == labels[$0] }.count
        for (norm, eps) in [(AttackNorm.linf, Float(16) / 255), (.l2, 1), (.linf, 0)] {
            for (queries, restarts) in [(1, 1), (17, 1), (40, 2)] {
                model.resetCounts()
                _ = try SquareAttack.run(model, images: x, labels: labels, settings: SquareSettings(norm: norm, eps: eps, queries: queries,
                                                                                                  restarts: restarts, seed: 2), cleanLogits: clean)
                XCTAssertLessThanOrEqual(model.calls, queries * restarts, "\(norm) eps \(eps): one batched evaluation per query")
                XCTAssertLessThanOrEqual(model.images, queries * restarts * attacked, "\(norm) eps \(eps) budget \(queries)")
                if eps == 0 { XCTAssertEqual(model.images, queries * restarts * attacked, "eps 0: the whole budget, per restart") }
            }
            // Example by example, in batches of one.
            for r in 0..<6 {
                model.resetCounts()
                let one = x.selectingRows([r])
                _ = try SquareAttack.run(model, images: one, labels: [labels[r]], settings: SquareSettings(norm: norm, eps: eps, queries: 25, seed: 2))
                XCTAssertLessThanOrEqual(model.images, 1 + 25, "\(norm) row \(r): the clean pass and at most 25 queries")
            }
        }
    }

    /// AutoAttack's components attack each example exactly as the standalone attacks would (same
    /// seed, per-example streams), so its worst case is below each of them, example by example.
    func testAutoAttackWorstCaseIsNeverAboveAnyComponent() throws {
        let model = Fixtures.trainedModel
        let data = try Fixtures.testData(for: model, limit: 128)
        for (norm, eps) in [(AttackNorm.linf, Float(4) / 255), (.l2, 0.5)] {
            let attacks = Self.kinds.map { spec($0, norm, eps: eps, steps: 10, queries: 100) }
            let report = try RobustnessEvaluator(batchSize: 64).evaluate(model, on: data, attacks: attacks)
            let auto = report.results[3]
            let components = try XCTUnwrap(auto.components)
            XCTAssertEqual(components.map(\.attack), ["apgd-ce", "apgd-t", "square"])
            XCTAssertEqual(components.map(\.steps), [10, 10, 100])
            XCTAssertEqual(components.last?.correct, auto.correct)
            for (standalone, component) in zip(report.results.prefix(3), components) {
                print("\(norm) eps \(eps): \(standalone.attack) alone \(standalone.robustAccuracy), after it in autoattack \(component.robustAccuracy)")
                XCTAssertLessThanOrEqual(auto.robustAccuracy, standalone.robustAccuracy, standalone.attack)
                for r in auto.correct.indices where auto.correct[r] { XCTAssertTrue(standalone.correct[r], "\(standalone.attack) row \(r)") }
            }
            XCTAssertEqual(components[0].correct, report.results[0].correct, "the first component is APGD-CE alone")
            for (before, after) in zip(components, components.dropFirst()) {
                XCTAssertLessThanOrEqual(after.robustAccuracy, before.robustAccuracy)
            }
            XCTAssertEqual(report.worstCaseAccuracy, auto.robustAccuracy, "autoattack is the worst case of this suite")
        }
    }

    func testCheckpointsAndWindowScheduleFollowThePapers() {
        XCTAssertEqual(AutoPGD.checkpointSchedule(steps: 100), [22, 41, 57, 70, 80, 87, 93, 99])
        XCTAssertEqual(AutoPGD.checkpointSchedule(steps: 10), [3, 5, 6, 7, 8, 9, 10])
        XCTAssertEqual(AutoPGD.checkpointSchedule(steps: 1), [1])
        XCTAssertEqual(SquareAttack.windowFraction(iteration: 0, of: 10000, initial: 0.8), 0.8)
        XCTAssertEqual(SquareAttack.windowFraction(iteration: 11, of: 10000, initial: 0.8), 0.4)
        XCTAssertEqual(SquareAttack.windowFraction(iteration: 9000, of: 10000, initial: 0.8), 0.8 / 512)
        // Rescaled: iteration 50 of 1,000 is iteration 500 of 10,000.
        XCTAssertEqual(SquareAttack.windowFraction(iteration: 50, of: 1000, initial: 0.8), 0.8 / 8)
    }

    func testBadInputFailsBeforeAnyWork() throws {
        func failure(_ spec: AttackSpec) -> String {
            do { try spec.validate(); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(failure(spec(.square, eps: 0.1, steps: 0)).hasPrefix("steps:"))
        XCTAssertTrue(failure(spec(.square, eps: 0.1, queries: 0)).hasPrefix("queries:"))
        XCTAssertTrue(failure(spec(.autoattack, eps: 0.1, queries: 0)).hasPrefix("queries:"))
        XCTAssertTrue(failure(spec(.apgdCE, eps: 0.1, steps: 0)).hasPrefix("steps:"))
        XCTAssertTrue(failure(AttackSpec(kind: .pgd, eps: 0.1, queries: 100)).hasPrefix("queries:"), "PGD takes no query budget")
        XCTAssertTrue(failure(AttackSpec(kind: .apgdT, eps: 0.1, stepSize: 0.01)).hasPrefix("step-size:"))
        XCTAssertTrue(failure(AttackSpec(kind: .square, eps: 0.1, randomStart: false)).hasPrefix("random-start:"))
        XCTAssertTrue(failure(spec(.apgdT, eps: -1)).hasPrefix("eps:"))
        XCTAssertEqual(AttackKind(rawValue: "apgd-ce"), .apgdCE)
        XCTAssertNil(AttackKind(rawValue: "apgd"))

        let model = Fixtures.trainedModel
        let data = try Fixtures.testData(for: model, limit: 8)
        XCTAssertThrowsError(try RobustnessEvaluator().evaluate(model, on: data, attacks: [spec(.apgdCE, eps: 0.1)], craftingModel: model)) {
            XCTAssertTrue("\($0)".contains("apgd-ce attacks the evaluated model itself"), "\($0)")
        }
        let (x, labels) = try Fixtures.batch(4, for: model)
        XCTAssertThrowsError(try withoutGradients { try AutoPGD.run(model, images: x, labels: labels, settings: AutoPGDSettings(eps: 0.1)) })
        XCTAssertThrowsError(try SquareAttack.run(model, images: x, labels: [0, 1, 9, 0], settings: SquareSettings(eps: 0.1))) {
            XCTAssertTrue("\($0)".contains("outside the model's classes"), "\($0)")
        }
    }

    /// AutoAttack's checks of the model itself, through the evaluator.
    func testModelOutputChecks() throws {
        let data = try Fixtures.testData(for: Fixtures.trainedModel, limit: 32)
        let attacks = [AttackSpec(kind: .pgd, eps: 2 / 255, steps: 2)]
        let sound = try RobustnessEvaluator().evaluate(Fixtures.trainedModel, on: data, attacks: attacks)
        XCTAssertFalse(sound.warnings.contains { $0.contains("randomised") || $0.contains("probabilities") }, "\(sound.warnings)")

        let probabilities = try WrappedClassifier(Fixtures.trainedModel) { try $0.softmax() }
        let softmaxed = try RobustnessEvaluator().evaluate(probabilities, on: data, attacks: attacks)
        XCTAssertTrue(softmaxed.warnings.contains { $0.contains("look like probabilities") }, "\(softmaxed.warnings)")

        var generator = RandomGenerator(seed: 4)
        let noisy = try WrappedClassifier(Fixtures.trainedModel) { logits in try logits + Tensor.normal(logits.shape, std: 0.1, generator: &generator) }
        let randomised = try RobustnessEvaluator().evaluate(noisy, on: data, attacks: attacks)
        XCTAssertTrue(randomised.warnings.contains { $0.contains("randomised") }, "\(randomised.warnings)")
    }
}
