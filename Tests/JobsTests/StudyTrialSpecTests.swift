import Cluster
import XCTest
@testable import Jobs
import Robustness
import Study

/// A study trial's parameters: what each role takes from them, and the errors a sweep author sees.
final class StudyTrialSpecTests: XCTestCase {
    let shared: [String: JSONValue] = [
        "source": .object(["dataset": .string("fashion-mnist"), "classes": .string("0-4"), "per_class": .int(1000), "epochs": .int(4)]),
        "target": .object(["dataset": .string("fashion-mnist"), "classes": .string("5-9"), "per_class": .int(300), "epochs": .int(12)]),
        "attacks": .array([
            .object(["attack": .string("pgd"), "steps": .int(10), "eps": .array([.string("1/255"), .string("8/255")])]),
            .object(["attack": .string("fgsm"), "eps": .string("8/255")]),
        ]),
    ]

    func spec(_ role: StudyRole, _ extra: [String: JSONValue] = [:], seed: Int = 7) throws -> StudyTrialSpec {
        try StudyTrialSpec(role: role, parameters: shared.merging(extra) { $1 }, seed: seed)
    }

    func testRolesPickTheirTaskAndObjective() throws {
        let pretrain = try spec(.pretrain)
        XCTAssertEqual(pretrain.task.label, "fashion-mnist[0-4]")
        XCTAssertEqual(pretrain.training.epochs, 4)
        XCTAssertEqual(pretrain.training.perClass, 1000)
        XCTAssertNil(pretrain.training.objective)
        XCTAssertEqual(pretrain.training.seed, 7)

        let dm = try spec(.dm, ["beta": .int(500), "train_eps": .string("0.5/255"), "train_steps": .int(10)])
        XCTAssertEqual(dm.task.label, "fashion-mnist[5-9]")
        XCTAssertEqual(dm.training.epochs, 12)
        XCTAssertEqual(dm.training.objective?.kind, .dm)
        XCTAssertEqual(dm.training.objective?.beta, 500)
        XCTAssertEqual(dm.training.objective?.eps ?? 0, 0.5 / 255, accuracy: 1e-9)

        let robust = try spec(.robustPretrain, ["train_eps": .string("8/255")])
        XCTAssertEqual(robust.training.objective?.kind, .pgdAT)
        XCTAssertEqual(robust.task.label, "fashion-mnist[0-4]")
        XCTAssertEqual(try spec(.trades).training.objective?.kind, .trades)
        XCTAssertEqual(try spec(.advFinetune).training.objective?.kind, .pgdAT)
    }

    func testAttackSuiteKeepsTheWrittenBudgets() throws {
        let attacks = try spec(.standard).attacks
        XCTAssertEqual(attacks.map(\.key), ["pgd-linf-1/255", "pgd-linf-8/255", "fgsm-linf-8/255"])
        XCTAssertEqual(attacks[1].spec.eps, 8 / 255, accuracy: 1e-9)
        XCTAssertEqual(attacks[1].spec.steps, 10)
        XCTAssertEqual(attacks[2].spec.effectiveSteps, 1)
    }

    func testAutoAttacksAreReadWithTheirQueryBudget() throws {
        let suite: JSONValue = .array([
            .object(["attack": .string("autoattack"), "eps": .string("8/255"), "steps": .int(20), "queries": .int(500)]),
            .object(["attack": .string("apgd-t"), "norm": .string("l2"), "eps": .array([.double(0.5)])]),
            .object(["attack": .string("square"), "eps": .string("8/255"), "steps": .int(300)]),
        ])
        let attacks = try spec(.standard, ["attacks": suite]).attacks
        XCTAssertEqual(attacks.map(\.key), ["autoattack-linf-8/255", "apgd-t-l2-0.5", "square-linf-8/255"])
        XCTAssertEqual(attacks[0].spec.squareQueries, 500)
        XCTAssertEqual(attacks[0].spec.steps, 20)
        XCTAssertEqual(attacks[2].spec.effectiveSteps, 300, "square's steps are its query budget")
    }

    func testTheRandVersionIsReadWithItsEOTIterations() throws {
        let suite: JSONValue = .array([
            .object(["attack": .string("autoattack-rand"), "eps": .string("8/255"), "steps": .int(20)]),
            .object(["attack": .string("autoattack-rand"), "norm": .string("l2"), "eps": .double(0.5), "eot_iterations": .int(5)]),
            .object(["attack": .string("apgd-dlr"), "eps": .string("8/255")]),
        ])
        let attacks = try spec(.standard, ["attacks": suite]).attacks
        XCTAssertEqual(attacks.map(\.key), ["autoattack-rand-linf-8/255", "autoattack-rand-l2-0.5", "apgd-dlr-linf-8/255"])
        XCTAssertEqual(attacks.map(\.spec.resolvedEOTIterations), [20, 5, 1])
        func failure(_ entry: [String: JSONValue]) -> String {
            do { _ = try spec(.standard, ["attacks": .array([.object(entry)])]); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(failure(["attack": .string("pgd"), "eps": .string("8/255"), "eot_iterations": .int(20)]).contains("eot-iterations"))
        XCTAssertTrue(failure(["attack": .string("autoattack-rand"), "eps": .string("8/255"), "eot_iterations": .int(0)]).contains("attacks[0].eot_iterations"))
    }

    /// A result carries at most 63 masks: a suite that would return more fails when it is read,
    /// naming `attacks`, not after training when the worker sends the result.
    func testMoreMasksThanAResultCarriesFailBeforeTraining() throws {
        func suite(_ budgets: Int, corruptions: Bool = false) -> JSONValue {
            let eps: [JSONValue] = (1...budgets).map { .string("\($0)/255") }
            return .array([.object(["attack": .string("pgd"), "eps": .array(eps)]), .object(["attack": .string("fgsm"), "eps": .array(eps)])]
                          + (corruptions ? [.object(["attack": .string("corruption"), "kinds": .array([.string("contrast")])])] : []))
        }
        XCTAssertEqual(StudyTrialSpec.maxMasks, 63)
        XCTAssertEqual(try spec(.standard, ["attacks": suite(31)]).maskCount, 63, "clean and 62 attacks: at the limit")
        XCTAssertThrowsError(try spec(.standard, ["attacks": suite(32)])) { error in
            XCTAssertTrue("\(error)".contains("parameter attacks: 65 per-example masks"), "\(error)")
            XCTAssertTrue("\(error)".contains("at most 63"), "\(error)")
        }
        XCTAssertThrowsError(try spec(.finetune, ["attacks": suite(16), "transfer_from_parent": .bool(true)])) { error in
            XCTAssertTrue("\(error)".contains("65 per-example masks (clean, one per attack and eps, one per transfer attack)"), "\(error)")
        }
        XCTAssertThrowsError(try spec(.standard, ["attacks": suite(31, corruptions: true)])) { error in
            XCTAssertTrue("\(error)".contains("64 per-example masks"), "\(error)")
        }
    }

    func testInputDiversityIsReadForDIMIFGSMOnly() throws {
        let suite: JSONValue = .array([
            .object(["attack": .string("di-mifgsm"), "eps": .string("8/255"), "steps": .int(10), "diversity_prob": .double(0.7), "resize_rate": .double(0.8)]),
            .object(["attack": .string("di-mifgsm"), "eps": .string("4/255")]),
        ])
        let attacks = try spec(.finetune, ["attacks": suite, "transfer_from_parent": .bool(true)]).attacks
        XCTAssertEqual(attacks.map(\.key), ["di-mifgsm-linf-8/255", "di-mifgsm-linf-4/255"])
        XCTAssertEqual(attacks[0].spec.diversity, InputDiversity(probability: 0.7, resizeRate: 0.8))
        XCTAssertNil(attacks[1].spec.diversity, "the defaults")
        XCTAssertEqual(attacks[1].spec.settings(batchSeed: 0).diversity, InputDiversity(probability: 0.5, resizeRate: 0.9))
        XCTAssertFalse(attacks[0].spec.kind.isParameterFree, "crafted on the parent too (transfer_from_parent)")
        func message(_ entry: [String: JSONValue]) -> String {
            do { _ = try spec(.standard, ["attacks": .array([.object(entry)])]); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(["attack": .string("pgd"), "eps": .string("8/255"), "diversity_prob": .double(0.5)]).contains("only di-mifgsm"))
        XCTAssertTrue(message(["attack": .string("di-mifgsm"), "eps": .string("8/255"), "resize_rate": .double(1.2)]).contains("resize-rate"))
        XCTAssertTrue(message(["attack": .string("di-mifgsm"), "eps": .string("8/255"), "diversity_prob": .string("often")]).contains("diversity_prob"))
    }

    func testFineTuningRatesBecomeTwoGroups() throws {
        let finetune = try spec(.finetune, ["lr": .double(0.05), "backbone_lr": .double(0.005)])
        XCTAssertEqual(finetune.training.learningRate, 0.05)
        XCTAssertEqual(finetune.training.backboneLearningRate, 0.005)
        let headOnly = try spec(.finetune, ["lr": .double(0.01), "head_lr": .double(0.1)])
        XCTAssertEqual(headOnly.training.learningRate, 0.1)
        XCTAssertEqual(headOnly.training.backboneLearningRate, 0.01)
        XCTAssertEqual(try spec(.finetune, ["linear_probe": .bool(true)]).training.linearProbe, true)
    }

    func testMistakesNameTheParameter() {
        func message(_ role: StudyRole, _ parameters: [String: JSONValue]) -> String {
            do { _ = try StudyTrialSpec(role: role, parameters: parameters, seed: 1); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(.standard, shared.merging(["epohcs": .int(3)]) { $1 }).contains("unknown parameter epohcs"))
        XCTAssertTrue(message(.standard, ["source": shared["source"]!]).contains("parameter target: missing"))
        XCTAssertTrue(message(.standard, shared.merging(["lr": .string("fast")]) { $1 }).contains("lr"))
        XCTAssertTrue(message(.standard, shared.merging(["retrain_from": .string("conv2")]) { $1 }).contains("from scratch"))
        let badAttack: JSONValue = .array([.object(["attack": .string("pgd"), "eps": .string("-1/255")])])
        XCTAssertTrue(message(.standard, shared.merging(["attacks": badAttack]) { $1 }).contains("negative"))
        let unknownAttack: JSONValue = .array([.object(["attack": .string("deepfool"), "eps": .int(0)])])
        XCTAssertTrue(message(.standard, shared.merging(["attacks": unknownAttack]) { $1 }).contains("unknown attack 'deepfool'"))
        let noQueries: JSONValue = .array([.object(["attack": .string("square"), "eps": .string("8/255"), "queries": .int(0)])])
        XCTAssertTrue(message(.standard, shared.merging(["attacks": noQueries]) { $1 }).contains("queries"))
        let pgdQueries: JSONValue = .array([.object(["attack": .string("pgd"), "eps": .string("8/255"), "queries": .int(10)])])
        XCTAssertTrue(message(.standard, shared.merging(["attacks": pgdQueries]) { $1 }).contains("queries: only square and autoattack"))
        let apgdStep: JSONValue = .array([.object(["attack": .string("apgd-ce"), "eps": .string("8/255"), "step_size": .string("1/255")])])
        XCTAssertTrue(message(.standard, shared.merging(["attacks": apgdStep]) { $1 }).contains("step-size"))
        let badTarget: JSONValue = .object(["dataset": .string("fashion-mnist"), "clases": .string("5-9")])
        XCTAssertTrue(message(.standard, shared.merging(["target": badTarget]) { $1 }).contains("target.clases"))
        XCTAssertTrue(message(.standard, shared.merging(["model": .string("vgg")]) { $1 }).contains("unknown model 'vgg'"))
    }
}
