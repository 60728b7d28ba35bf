import Cluster
import XCTest
@testable import Reports

final class StudyReportTests: ThreeRoleStudyTestCase {
    private func group(_ stage: String) throws -> StageGroupSummary {
        try XCTUnwrap(report.groups.first { $0.stage == stage }, "no group \(stage)")
    }

    func testGroupsByTaskModelAndStageInSweepOrder() {
        XCTAssertEqual(report.groups.map(\.stage), ["pretrain", "standard", "finetune", "dm"], "source task sorts first, then stages in sweep order")
        XCTAssertEqual(report.groups.map(\.task), [StudyStoreFixture.source] + Array(repeating: StudyStoreFixture.target, count: 3))
        XCTAssertTrue(report.groups.allSatisfy { $0.variant.isEmpty && $0.model == StudyStoreFixture.model })
        XCTAssertEqual(report.groups.map(\.seeds), [[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 3]], "dm seed 2 failed")
    }

    func testMeansAndIntervalsEqualHandComputedValues() throws {
        let t2 = 4.302653, t1 = 12.706205 // t(0.975, 2) and t(0.975, 1)
        let standard = try group("standard")
        // clean 0.5, 0.6, 0.7: mean 0.6, sd 0.1, half-width 4.302653 · 0.1 / √3 = 0.248414.
        XCTAssertEqual(standard.cleanAccuracy.mean, 0.6, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(standard.cleanAccuracy.halfWidth), 0.248414, accuracy: 1e-6)
        // PGD 8/255 robust 0.30, 0.32, 0.34: mean 0.32, sd 0.02, half-width 4.302653 · 0.02 / √3 = 0.049683.
        let pgd8 = try XCTUnwrap(standard.attacks.first { $0.setting.attack == "pgd" && $0.setting.epsLabel == "8/255" })
        XCTAssertEqual(pgd8.robustAccuracy.mean, 0.32, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(pgd8.robustAccuracy.halfWidth), t2 * 0.02 / 3.0.squareRoot(), accuracy: 1e-6)
        // success rate 1 − robust/clean per seed: 0.4, 1 − 0.32/0.6, 1 − 0.34/0.7.
        let success = [1 - 0.30 / 0.5, 1 - 0.32 / 0.6, 1 - 0.34 / 0.7]
        XCTAssertEqual(try XCTUnwrap(pgd8.successRate).mean, success.reduce(0, +) / 3, accuracy: 1e-12)
        // Confidence clean = clean − 0.05 (mean 0.55); adversarial = robust − 0.05 (mean 0.27); worst case = robust − 0.05.
        XCTAssertEqual(try XCTUnwrap(pgd8.meanTrueConfidenceClean).mean, 0.55, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(pgd8.meanTrueConfidenceAdversarial).mean, 0.27, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(standard.worstCaseAccuracy).mean, 0.27, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(standard.meanTrueConfidence).mean, 0.58, accuracy: 1e-12)
        // dm, seeds 1 and 3: clean 0.60, 0.72; mean 0.66, sd 0.12/√2, half-width 12.706205 · (0.12/√2) / √2 = 12.706205 · 0.06.
        let dm = try group("dm")
        XCTAssertEqual(dm.cleanAccuracy.n, 2)
        XCTAssertEqual(dm.cleanAccuracy.mean, 0.66, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(dm.cleanAccuracy.halfWidth), t1 * 0.06, accuracy: 1e-5)
    }

    func testAttacksAreOrderedByNameThenEps() throws {
        XCTAssertEqual(try group("standard").attacks.map(\.setting.label),
                       ["fgsm linf 8/255 (1 step)", "pgd linf 2/255 (10 steps)", "pgd linf 8/255 (10 steps)"])
    }

    func testPairedDifferencesAgainstStandardPairBySeed() throws {
        let t2 = 4.302653, t1 = 12.706205
        XCTAssertEqual(report.pairedDifferences.count, 15,
                       "finetune − standard, dm − standard and dm − finetune, each clean on both sets + 3 attacks; pretrain is on another task")
        XCTAssertEqual(report.pairedDifferences.first?.stage, "finetune", "the headline comes first")
        XCTAssertEqual(report.pairedDifferences.map(\.comparisonLabel).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } },
                       ["finetune − standard", "dm − standard", "dm − finetune"], "the robust fine-tune against plain fine-tuning last")
        func difference(_ stage: String, _ epsLabel: String?, baseline: String = "standard") throws -> PairedDifference {
            try XCTUnwrap(report.pairedDifferences.first {
                $0.stage == stage && $0.baseline == baseline && $0.attack?.epsLabel == epsLabel
                    && ($0.attack == nil ? $0.metric == .cleanAccuracy : $0.attack?.attack == "pgd")
            })
        }
        // finetune − standard, clean: 0.12, 0.10, 0.05; mean 0.09; sd √((0.03² + 0.01² + 0.04²)/2) = √0.0013.
        let clean = try difference("finetune", nil)
        XCTAssertEqual(clean.seeds, [1, 2, 3])
        XCTAssertEqual(clean.metric, .cleanAccuracy)
        XCTAssertEqual(clean.difference.mean, 0.09, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(clean.difference.halfWidth), t2 * 0.0013.squareRoot() / 3.0.squareRoot(), accuracy: 1e-6)
        // finetune − standard, PGD 8/255: −0.10, −0.07, −0.10; mean −0.09; sd √0.0003; half-width 4.302653 · 0.01.
        let robust = try difference("finetune", "8/255")
        XCTAssertEqual(robust.difference.mean, -0.09, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(robust.difference.halfWidth), t2 * 0.01, accuracy: 1e-6)
        // dm − standard, clean, seeds 1 and 3 only: 0.60 − 0.5, 0.72 − 0.7 = 0.10, 0.02; mean 0.06;
        // half-width 12.706205 · (0.08/√2) / √2 = 12.706205 · 0.04. (Pairing by position would give 0.11.)
        let dm = try difference("dm", nil)
        XCTAssertEqual(dm.seeds, [1, 3])
        XCTAssertEqual(dm.difference.mean, 0.06, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(dm.difference.halfWidth), t1 * 0.04, accuracy: 1e-5)
        // dm − finetune, PGD 8/255, seeds 1 and 3: 0.40 − 0.20, 0.44 − 0.24 = 0.20 both.
        let repair = try difference("dm", "8/255", baseline: "finetune")
        XCTAssertEqual(repair.seeds, [1, 3])
        XCTAssertEqual(repair.difference.mean, 0.20, accuracy: 1e-12)
    }

    func testCKAPerStageReferenceAndLayerInModelOrder() throws {
        XCTAssertEqual(report.cka.map { "\($0.stage)/\($0.reference)/\($0.layer)" }, [
            "finetune/pretrain/layer1", "finetune/pretrain/layer2", "finetune/pretrain/layer10",
            "dm/pretrain/layer1", "dm/pretrain/layer2", "dm/pretrain/layer10"])
        // finetune layer1: 0.95, 0.96, 0.97 → 0.96 ± 4.302653 · 0.01 / √3.
        XCTAssertEqual(report.cka[0].value.mean, 0.96, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(report.cka[0].value.halfWidth), 4.302653 * 0.01 / 3.0.squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(report.cka[5].value.mean, 0.52, accuracy: 1e-12)
        XCTAssertEqual(report.cka[5].value.n, 2)
    }

    func testClusterSummaryFromTheStore() throws {
        let cluster = report.cluster
        XCTAssertEqual(cluster.counts, ["done": 11, "failed": 1])
        XCTAssertEqual(cluster.hosts.map(\.name), ["h1", "h2"])
        XCTAssertEqual(cluster.hosts.map(\.done), [6, 5])
        XCTAssertEqual(cluster.workers.map(\.done), [6, 5])
        // Completions took 10, 20, ..., 110 s: mean 60, median 60, max 110.
        let durations = try XCTUnwrap(cluster.durations)
        XCTAssertEqual(durations.count, 11)
        XCTAssertEqual(durations.mean, 60, accuracy: 1e-9)
        XCTAssertEqual(durations.median, 60)
        XCTAssertEqual(durations.max, 110)
        XCTAssertEqual(cluster.extraAttempts, 2)
        XCTAssertEqual(cluster.retriedTrials, ["standard-0002", "dm-0001"])
        XCTAssertEqual(cluster.failures.map(\.id), ["dm-0001"])
        XCTAssertTrue(cluster.failures[0].reason.contains("out of memory again"), cluster.failures[0].reason)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(cluster.wallSeconds), 0)
        XCTAssertEqual(report.excludedTrials.map(\.id), ["dm-0001"], "a failed trial is listed, not dropped")
        XCTAssertEqual(report.nonStudyTrials, 0)
    }

    func testThroughputIsDoneTrialsPerHourFromFirstLeaseToLastResult() throws {
        let built = StudyReportBuilder.build(sweep: try fixture.store.report(), eventTimes: ["leased": [150, 100], "done": [200, 1900]])
        XCTAssertEqual(built.cluster.wallSeconds, 1800)
        XCTAssertEqual(try XCTUnwrap(built.cluster.trialsPerHour), 11 / 0.5, accuracy: 1e-9)
        let none = StudyReportBuilder.build(sweep: try fixture.store.report(), eventTimes: [:])
        XCTAssertNil(none.cluster.wallSeconds)
        XCTAssertNil(none.cluster.trialsPerHour)
    }

    func testReportNumbersEqualTheStoredMetrics() throws {
        // Every stored clean accuracy of a group is one of the values its mean is taken over.
        let sweep = try fixture.store.report()
        for group in report.groups {
            let stored = group.trials.compactMap { id in sweep.trials.first { $0.id == id }?.metrics?["clean_accuracy"]?.doubleValue }
            XCTAssertEqual(stored.count, group.cleanAccuracy.n)
            XCTAssertEqual(stored.reduce(0, +) / Double(stored.count), group.cleanAccuracy.mean, accuracy: 1e-12)
            XCTAssertEqual(stored, ThreeRoleStudy.clean[group.stage]!.enumerated().filter { group.seeds.contains($0.offset + 1) }.map(\.element))
        }
    }
}
