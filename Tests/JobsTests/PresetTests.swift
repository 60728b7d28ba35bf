import Cluster
import Foundation
import XCTest
@testable import Jobs
import Study

/// Every sweep under cluster/sweeps parses, expands, and gives every study trial parameters
/// its role accepts — so a typo in a preset fails here, not hours into a run.
final class PresetTests: XCTestCase {
    static let sweeps = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("cluster/sweeps")

    func testEveryPresetParsesExpandsAndValidates() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.sweeps.path).filter { $0.hasSuffix(".yaml") }.sorted()
        for required in ["default.yaml", "paper-core.yaml", "factors.yaml", "dm.yaml", "analysis.yaml"] {
            XCTAssertTrue(files.contains(required), "cluster/sweeps/\(required) is missing")
        }
        for file in files {
            let (sweep, _) = try SweepParser.parse(contentsOf: Self.sweeps.appendingPathComponent(file))
            let trials = SweepExpander.expand(sweep)
            XCTAssertFalse(trials.isEmpty, file)
            for trial in trials {
                if let role = StudyRole(rawValue: trial.job) {
                    XCTAssertNoThrow(try StudyTrialSpec(role: role, parameters: trial.parameters, seed: trial.seed), "\(file): \(trial.id)")
                    if let spec = try? StudyTrialSpec(role: role, parameters: trial.parameters, seed: trial.seed) {
                        XCTAssertLessThanOrEqual(spec.maskCount, StudyTrialSpec.maxMasks, "\(file): \(trial.id) returns more masks than a result carries")
                    }
                    XCTAssertEqual(role.needsParent, trial.parentTrialID != nil, "\(file): \(trial.id) and its from:")
                } else if let kind = StudyAnalysisJob(rawValue: trial.job) {
                    XCTAssertNoThrow(try kind.validate(trial.parameters), "\(file): \(trial.id)")
                } else {
                    XCTAssertTrue(["sleep", "sum", "fail-once", "crash"].contains(trial.job), "\(file): unknown job \(trial.job)")
                }
            }
        }
    }

    func testDefaultStudyIsTheMainJob() throws {
        let (sweep, _) = try SweepParser.parse(contentsOf: Self.sweeps.appendingPathComponent("default.yaml"))
        XCTAssertEqual(sweep.seeds, [1, 2, 3, 4])
        XCTAssertEqual(sweep.stages.map(\.name), ["pretrain", "robust-pretrain", "standard", "finetune", "dm", "trades"])
        let trials = SweepExpander.expand(sweep)
        XCTAssertEqual(trials.count, 18)
        // One pre-training and one robust pre-training for the whole study, as in the paper.
        for source in ["pretrain", "robust-pretrain"] {
            XCTAssertEqual(trials.filter { $0.stage == source }.map(\.id), ["\(source)-0000"])
        }
        for (stage, source) in [("finetune", "pretrain"), ("dm", "robust-pretrain"), ("trades", "robust-pretrain")] {
            let fanned = trials.filter { $0.stage == stage }
            XCTAssertEqual(fanned.map(\.seed), [1, 2, 3, 4], stage)
            XCTAssertEqual(Set(fanned.map(\.parentTrialIDs)), [["\(source)-0000"]], stage)
        }
        let finetune = try StudyTrialSpec(role: .finetune, parameters: trials.first { $0.stage == "finetune" }!.parameters, seed: 1)
        XCTAssertEqual(finetune.task.label, "fashion-mnist[5-9]")
        XCTAssertEqual(finetune.attacks.filter { $0.spec.kind == .pgd }.map(\.epsLabel), ["1/255", "2/255", "4/255", "8/255", "16/255", "32/255"])
        XCTAssertTrue(finetune.attacks.contains { $0.spec.kind == .fgsm })
        XCTAssertEqual(finetune.training.model, "small-cnn")
    }

    /// Every target role is attacked by AutoAttack at 8/255 beside PGD-10 at 8/255, on the same
    /// seeded subset, within the masks a result carries; the source models are not (they are not
    /// what the study compares, and their trials are on every other trial's critical path).
    func testDefaultStudyRunsAutoAttackBesidePGDOnTheTargetRoles() throws {
        let (sweep, _) = try SweepParser.parse(contentsOf: Self.sweeps.appendingPathComponent("default.yaml"))
        for trial in SweepExpander.expand(sweep) {
            let spec = try StudyTrialSpec(role: try XCTUnwrap(StudyRole(rawValue: trial.job)), parameters: trial.parameters, seed: trial.seed)
            let autoAttack = spec.attacks.filter { $0.spec.kind == .autoattack }
            XCTAssertEqual(spec.attackExamples, 300, trial.id)
            XCTAssertLessThanOrEqual(spec.maskCount, StudyTrialSpec.maxMasks, trial.id)
            if trial.stage.hasSuffix("pretrain") {
                XCTAssertEqual(autoAttack.count, 0, trial.id)
                XCTAssertEqual(spec.maskCount, 13, "\(trial.id): clean, PGD and FGSM at 6 budgets")
                continue
            }
            XCTAssertEqual(autoAttack.map(\.key), ["autoattack-linf-8/255"], trial.id)
            let aa = try XCTUnwrap(autoAttack.first).spec
            XCTAssertEqual(aa.eps, 8 / 255, accuracy: 1e-9)
            XCTAssertEqual(aa.norm, .linf)
            XCTAssertEqual([aa.steps, aa.squareQueries], [Self.defaultAutoAttackSteps, Self.defaultAutoAttackQueries], trial.id)
            XCTAssertEqual(aa.restarts, 1)
            let pgd = try XCTUnwrap(spec.attacks.first { $0.key == "pgd-linf-8/255" }).spec
            XCTAssertEqual([pgd.steps, pgd.restarts], [10, 1], "\(trial.id): the gap is measured against PGD-10")
            XCTAssertEqual(aa.seed, pgd.seed, "\(trial.id): one attack seed for the suite")
            XCTAssertEqual(spec.maskCount, 14, "\(trial.id): clean, PGD and FGSM at 6 budgets, AutoAttack")
        }
    }

    /// The budget cluster/sweeps/default.yaml, README.md and docs/STUDY.md state.
    static let defaultAutoAttackSteps = 10
    static let defaultAutoAttackQueries = 100
}
