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
}
