import Foundation
import StudyMetrics
import XCTest

/// The one metrics record: what a job writes is what a report reads, and old stores still read.
final class StudyTrialMetricsTests: XCTestCase {
    func filled() -> StudyTrialMetrics {
        var m = StudyTrialMetrics(role: "finetune", task: "cifar10[2-3]", model: "resnet20")
        (m.dataset, m.classes, m.trainExamples, m.epochs, m.replicas, m.resumedFromStep) = ("cifar10", "2-3", 200, 3, 2, 50)
        (m.cleanAccuracy, m.cleanExamples, m.meanTrueConfidence) = (0.875, 2000, 0.7)
        (m.attackedCleanAccuracy, m.attackedExamples, m.worstCaseAccuracy) = (0.86, 300, 0.1)
        m.attacks = [AttackMetrics(attack: "autoattack", norm: "linf", eps: 8.0 / 255, epsLabel: "8/255", steps: 100, robustAccuracy: 0.1,
                                   successRate: 0.88, meanTrueConfidenceClean: 0.7, meanTrueConfidenceAdv: 0.2,
                                   components: [.init(attack: "apgd-ce", steps: 100, robustAccuracy: 0.15)])]
        m.warnings = ["square beats the white-box attacks"]
        m.corruptions = CorruptionMetrics(cleanAccuracy: 0.86, examples: 300, meanAccuracy: 0.5,
                                          results: [.init(kind: "contrast", severity: 2, accuracy: 0.5, successRate: 0.4, meanTrueConfidence: 0.3)],
                                          seconds: 1.5)
        m.cka = [CKAValue(reference: "parent", layer: "stage1", value: 0.93, svcca: 0.81)]
        m.frequency = FrequencyMetrics(lowPass: [.init(radius: 4, accuracy: 0.3)], highPass: [.init(radius: 4, accuracy: 0.2)])
        m.learningCurve = [LearningCurvePoint(epoch: 1, trainLoss: 0.9, trainAccuracy: 0.6, learningRate: 0.05, seconds: 2, valAccuracy: 0.55)]
        (m.trainSeconds, m.evalSeconds) = (12, 3)
        return m
    }

    func json(_ m: StudyTrialMetrics) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(m)) as? [String: Any])
    }

    func testEveryFieldSurvivesTheStoresJSON() throws {
        let m = filled()
        XCTAssertEqual(try JSONDecoder().decode(StudyTrialMetrics.self, from: JSONEncoder().encode(m)), m)
        let keys = Set(try json(m).keys)
        for key in ["clean_accuracy", "attacked_clean_accuracy", "worst_case_accuracy", "learning_curve", "resumed_from_step", "eval_seconds"] {
            XCTAssertTrue(keys.contains(key), "snake_case key \(key) in \(keys.sorted())")
        }
    }

    func testWhatWasNotMeasuredIsAbsentNotEmpty() throws {
        var m = StudyTrialMetrics(role: "pretrain", task: "cifar10[0-4]", model: "resnet20")
        m.cleanAccuracy = 0.9
        XCTAssertEqual(Set(try json(m).keys), ["role", "task", "model", "clean_accuracy"])
    }

    func testAStoreFromBeforeTheNewFieldsStillReads() throws {
        let old = #"{"role":"standard","task":"t","model":"small-cnn","clean_accuracy":0.5,"attacks":[{"attack":"pgd","norm":"linf","eps":0.03,"eps_label":"8/255","steps":10,"robust_accuracy":0.2}]}"#
        let m = try JSONDecoder().decode(StudyTrialMetrics.self, from: Data(old.utf8))
        XCTAssertEqual(m.attacks.first?.robustAccuracy, 0.2)
        XCTAssertNil(m.attacks.first?.successRate)
        XCTAssertEqual(m.learningCurve, [])
    }

    func testOnlyAnAnalysisMayLackCleanAccuracy() throws {
        let cka = #"{"role":"cka","task":"t","model":"m","cka":[{"reference":"a","layer":"stage1","value":0.5}]}"#
        XCTAssertNil(try JSONDecoder().decode(StudyTrialMetrics.self, from: Data(cka.utf8)).cleanAccuracy)
        // Stores from before SVCCA: CKA without it.
        XCTAssertNil(try JSONDecoder().decode(StudyTrialMetrics.self, from: Data(cka.utf8)).cka.first?.svcca)
        let broken = #"{"role":"finetune","task":"t","model":"m"}"#
        XCTAssertThrowsError(try JSONDecoder().decode(StudyTrialMetrics.self, from: Data(broken.utf8)))
    }
}
