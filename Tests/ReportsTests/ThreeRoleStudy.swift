import Cluster
import Foundation
import Reports
import XCTest

/// The study in miniature: pretrain (source task) -> finetune and dm (target task), standard
/// from scratch on the target task, seeds 1, 2, 3. dm seed 2 fails after its retry; standard
/// seed 3 loses its first lease and is done on the second.
enum ThreeRoleStudy {
    static let sweep = """
        name: study
        seeds: [1, 2, 3]
        retries: 1
        stages:
          - {name: pretrain, job: pretrain}
          - {name: standard, job: standard}
          - {name: finetune, job: finetune, from: pretrain}
          - {name: dm, job: dm, from: pretrain}
        """
    static let stages = ["pretrain", "standard", "finetune", "dm"]

    /// Per seed 1, 2, 3.
    static let clean = ["pretrain": [0.90, 0.92, 0.94], "standard": [0.5, 0.6, 0.7], "finetune": [0.62, 0.70, 0.75], "dm": [0.60, 0.66, 0.72]]
    static let pgd8 = ["pretrain": [0.10, 0.12, 0.14], "standard": [0.30, 0.32, 0.34], "finetune": [0.20, 0.25, 0.24], "dm": [0.40, 0.42, 0.44]]
    static let ckaLayer1 = ["finetune": [0.95, 0.96, 0.97], "dm": [0.80, 0.82, 0.84]]

    static func metrics(stage: String, seedIndex i: Int) -> [String: JSONValue] {
        let clean = clean[stage]![i], robust = pgd8[stage]![i]
        // Listed out of order on purpose: reports order attacks by name, then eps.
        let attacks = [
            AttackValues(eps: 8.0 / 255, epsLabel: "8/255", robust: robust, success: 1 - robust / clean,
                         confidenceClean: clean - 0.05, confidenceAdversarial: robust - 0.05),
            AttackValues(attack: "fgsm", eps: 8.0 / 255, epsLabel: "8/255", steps: 1, robust: robust + 0.05, success: 0.5,
                         confidenceClean: clean - 0.05, confidenceAdversarial: robust),
            AttackValues(eps: 2.0 / 255, epsLabel: "2/255", robust: clean - 0.1, success: 0.1,
                         confidenceClean: clean - 0.05, confidenceAdversarial: clean - 0.15),
        ]
        let cka = ckaLayer1[stage].map { values in
            [("pretrain", "layer1", values[i]), ("pretrain", "layer2", values[i] - 0.1), ("pretrain", "layer10", values[i] - 0.3)]
        } ?? []
        return studyMetrics(role: stage, task: stage == "pretrain" ? StudyStoreFixture.source : StudyStoreFixture.target,
                            clean: clean, confidence: clean - 0.02, attacks: attacks, worstCase: robust - 0.05, cka: cka)
    }

    static func make() throws -> StudyStoreFixture {
        let fixture = try StudyStoreFixture(sweep: sweep)
        var done = 0
        for stage in stages {
            for i in 0..<3 {
                let id = String(format: "%@-%04d", stage, i)
                if stage == "dm" && i == 1 {
                    try fixture.loseLease(id, reason: "out of memory")
                    try fixture.loseLease(id, reason: "out of memory again")
                    continue
                }
                if stage == "standard" && i == 2 { try fixture.loseLease(id, reason: "w1 died") }
                let (worker, host) = done.isMultiple(of: 2) ? ("w1", "h1") : ("w2", "h2")
                try fixture.complete(id, metrics(stage: stage, seedIndex: i), worker: worker, host: host)
                done += 1
            }
        }
        return fixture
    }
}

/// Tests that read the three-role study: a fresh store and its report for every test.
class ThreeRoleStudyTestCase: XCTestCase {
    var fixture: StudyStoreFixture!
    var report: StudyReport!

    override func setUpWithError() throws {
        fixture = try ThreeRoleStudy.make()
        report = try StudyReportBuilder.build(store: fixture.store)
    }

    override func tearDown() { fixture = nil }
}
