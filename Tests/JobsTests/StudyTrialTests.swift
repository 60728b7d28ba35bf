import Cluster
import Foundation
import NeuralNetworks
import TensorEngine
import XCTest
@testable import Jobs
import Study

/// One study trial in this process: train, measure, and hand back metrics, masks and checkpoint.
final class StudyTrialTests: XCTestCase {
    static let dataset = "synthetic:classes=4,channels=1,size=12,train=600,test=160,seed=5"
    let parameters: [String: JSONValue] = [
        "source": .object(["dataset": .string(dataset), "classes": .string("0-1"), "epochs": .int(2)]),
        "target": .object(["dataset": .string(dataset), "classes": .string("2-3"), "per_class": .int(100), "epochs": .int(2)]),
        "batch_size": .int(32),
        "attack_examples": .int(50),
        "attacks": .array([
            .object(["attack": .string("pgd"), "steps": .int(3), "eps": .array([.int(0), .string("8/255"), .string("64/255")])]),
            .object(["attack": .string("fgsm"), "eps": .string("8/255")]),
        ]),
    ]

    func run(_ role: StudyRole, _ extra: [String: JSONValue] = [:], parent: Data? = nil) throws -> JobOutcome {
        let spec = try StudyTrialSpec(role: role, parameters: parameters.merging(extra) { $1 }, seed: 3)
        return try StudyTrial(spec: spec).run(parentCheckpoint: parent)
    }

    func attacks(_ outcome: JobOutcome) -> [String: [String: JSONValue]] {
        var byKey: [String: [String: JSONValue]] = [:]
        for case let .object(entry) in outcome.metrics["attacks"]?.arrayValue ?? [] {
            byKey["\(entry["attack"]!.stringValue!)-\(entry["eps_label"]!.stringValue!)"] = entry
        }
        return byKey
    }

    func testPretrainThenFinetuneMeasuresEverythingTheReportNeeds() throws {
        let pretrain = try run(.pretrain)
        XCTAssertEqual(pretrain.metrics["task"], .string("\(Self.dataset)[0-1]"))
        XCTAssertEqual(pretrain.metrics["clean_examples"], .int(80), "clean accuracy covers the whole source test split")
        let checkpoint = try XCTUnwrap(pretrain.artifact).bytes

        let finetune = try run(.finetune, ["cka_examples": .int(40), "transfer_from_parent": .bool(true)], parent: checkpoint)
        let m = finetune.metrics
        XCTAssertEqual(m["role"], .string("finetune"))
        XCTAssertEqual(m["task"], .string("\(Self.dataset)[2-3]"))
        XCTAssertEqual(m["train_examples"], .int(200))
        XCTAssertEqual(m["attacked_examples"], .int(50))
        XCTAssertEqual(m["clean_examples"], .int(80))
        let clean = try XCTUnwrap(m["attacked_clean_accuracy"]?.doubleValue)
        XCTAssertGreaterThan(try XCTUnwrap(m["clean_accuracy"]?.doubleValue), 0.6, "two synthetic classes are learnable")

        // One entry and one mask per attack, each mask one byte per attacked example.
        let byKey = attacks(finetune)
        XCTAssertEqual(Set(byKey.keys), ["pgd-0", "pgd-8/255", "pgd-64/255", "fgsm-8/255",
                                         "pgd-transfer-0", "pgd-transfer-8/255", "pgd-transfer-64/255", "fgsm-transfer-8/255"])
        XCTAssertEqual(byKey["pgd-0"]?["robust_accuracy"]?.doubleValue, clean, "eps 0 gives the clean accuracy")
        let strong = try XCTUnwrap(byKey["pgd-64/255"]?["robust_accuracy"]?.doubleValue)
        XCTAssertLessThanOrEqual(strong, try XCTUnwrap(byKey["pgd-8/255"]?["robust_accuracy"]?.doubleValue))
        XCTAssertLessThanOrEqual(try XCTUnwrap(m["worst_case_accuracy"]?.doubleValue), strong)
        for key in ["clean", "pgd-linf-0", "pgd-linf-8/255", "pgd-linf-64/255", "fgsm-linf-8/255", "pgd-transfer-linf-8/255"] {
            XCTAssertEqual(finetune.masks[key]?.count, 50, key)
        }
        let mask = try XCTUnwrap(finetune.masks["pgd-linf-64/255"])
        XCTAssertEqual(Double(mask.filter { $0 == 1 }.count) / 50, strong, "the mask and the metric agree")

        // CKA against the parent at every stage, in (0, 1].
        let cka = try XCTUnwrap(m["cka"]?.arrayValue)
        XCTAssertEqual(cka.count, 3, "small-cnn has three stages")
        for case let .object(entry) in cka {
            let value = try XCTUnwrap(entry["value"]?.doubleValue)
            XCTAssertTrue(value > 0 && value <= 1 + 1e-9, "CKA \(value)")
        }
        // The artifact is a checkpoint of the target task.
        let (model, metadata) = try Checkpoint.load(try write(try XCTUnwrap(finetune.artifact).bytes))
        XCTAssertEqual(model.modelDescription.numClasses, 2)
        // Its lineage names the parent by content, not by a temporary file that is gone.
        XCTAssertEqual(metadata["init"], "sha256:" + SHA256.hex(checkpoint))
        XCTAssertNil(try Checkpoint.load(try write(checkpoint)).metadata["init"], "the pre-trained model starts from nothing")
    }

    func testAnalysisJobsCompareAndReEvaluateStoredCheckpoints() throws {
        let pretrain = try XCTUnwrap(try run(.pretrain).artifact).bytes
        let standard = try XCTUnwrap(try run(.standard).artifact).bytes
        let finetune = try XCTUnwrap(try run(.finetune, parent: pretrain).artifact).bytes
        let parents = [ParentArtifact(stage: "finetune", trialID: "finetune-0000", bytes: finetune),
                       ParentArtifact(stage: "standard", trialID: "standard-0000", bytes: standard),
                       ParentArtifact(stage: "pretrain", trialID: "pretrain-0000", bytes: pretrain)]

        let cka = try StudyAnalysisJob.cka.run(parameters: ["target": parameters["target"]!, "cka_examples": .int(40)], parents: parents)
        XCTAssertEqual(cka.metrics["role"], .string("cka"))
        XCTAssertEqual(cka.metrics["compared"], .string("finetune"))
        let entries = try XCTUnwrap(cka.metrics["cka"]?.arrayValue).compactMap(\.objectValue)
        XCTAssertEqual(entries.map { $0["reference"]!.stringValue! }, Array(repeating: "standard", count: 3) + Array(repeating: "pretrain", count: 3))
        XCTAssertTrue(entries.allSatisfy { ($0["value"]?.doubleValue ?? -1) > 0 && $0["value"]!.doubleValue! <= 1 + 1e-9 })
        XCTAssertTrue(entries.allSatisfy { ($0["svcca"]?.doubleValue ?? -1) > 0 && $0["svcca"]!.doubleValue! <= 1 + 1e-9 })
        // A model compared with itself has CKA 1 at every stage.
        let same = try StudyAnalysisJob.cka.run(parameters: ["target": parameters["target"]!, "cka_examples": .int(40)],
                                                parents: [parents[0], ParentArtifact(stage: "again", trialID: "x", bytes: finetune)])
        for entry in same.metrics["cka"]!.arrayValue!.compactMap(\.objectValue) {
            XCTAssertEqual(entry["value"]!.doubleValue!, 1, accuracy: 1e-6)
            // SVCCA beside it, also 1.
            XCTAssertEqual(try XCTUnwrap(entry["svcca"]?.doubleValue), 1, accuracy: 1e-6)
        }

        // Re-evaluation: the task comes from the checkpoint, eps 0 gives the clean accuracy on the subset.
        let evaluation = try StudyAnalysisJob.evaluate.run(parameters: [
            "attacks": .array([.object(["attack": .string("pgd"), "steps": .int(2), "eps": .array([.int(0), .string("32/255")])])]),
            "attack_examples": .int(30),
        ], parents: [parents[0]])
        XCTAssertEqual(evaluation.metrics["evaluates"], .string("finetune"))
        XCTAssertEqual(evaluation.metrics["task"], .string("\(Self.dataset)[2-3]"))
        let results = try XCTUnwrap(evaluation.metrics["attacks"]?.arrayValue).compactMap(\.objectValue)
        XCTAssertEqual(results[0]["robust_accuracy"], evaluation.metrics["attacked_clean_accuracy"])
        XCTAssertEqual(evaluation.masks["pgd-linf-32/255"]?.count, 30)

        XCTAssertThrowsError(try StudyAnalysisJob.cka.run(parameters: ["target": parameters["target"]!], parents: [parents[0]])) {
            XCTAssertTrue("\($0)".contains("two stages or more"), "\($0)")
        }
        XCTAssertThrowsError(try StudyAnalysisJob.evaluate.validate([:])) { XCTAssertTrue("\($0)".contains("attacks"), "\($0)") }
    }

    func testRolesWithAndWithoutAParentAreChecked() throws {
        XCTAssertThrowsError(try run(.finetune)) { XCTAssertTrue("\($0)".contains("from:"), "\($0)") }
        XCTAssertThrowsError(try run(.standard, parent: Data([1, 2, 3]))) { XCTAssertTrue("\($0)".contains("remove `from:`"), "\($0)") }
    }

    func testCancellationStopsTraining() throws {
        let flag = CancellationFlag()
        flag.cancel()
        let spec = try StudyTrialSpec(role: .standard, parameters: parameters, seed: 1)
        XCTAssertThrowsError(try StudyTrial(spec: spec).run(parentCheckpoint: nil, cancellation: flag)) {
            XCTAssertTrue("\($0)".contains("cancelled"), "\($0)")
        }
    }

    /// Told to stop mid-training, a trial stores a snapshot and ends; the attempt that resumes
    /// from it ends with the model and metrics of a trial that was never stopped: for plain
    /// training and for a robust role, whose inner attack draws the random starts it would have.
    func testAStoppedTrialResumesFromItsSnapshotToTheSameModel() throws {
        try assertStopAndResumeMatch(.standard, parent: nil)
        let source = try XCTUnwrap(try run(.pretrain).artifact).bytes
        try assertStopAndResumeMatch(.trades, parent: source, extra: ["train_steps": .int(2)])
    }

    func assertStopAndResumeMatch(_ role: StudyRole, parent: Data?, extra: [String: JSONValue] = [:]) throws {
        let spec = try StudyTrialSpec(role: role, parameters: parameters.merging(extra) { $1 }, seed: 4)
        let uninterrupted = try StudyTrial(spec: spec).run(parentCheckpoint: parent)

        let flag = CancellationFlag()
        var saved: (Data, Int)?
        var steps = 0
        let snapshots = StudyTrial.Snapshots(resume: nil) { bytes, step in saved = (bytes, step) }
        XCTAssertThrowsError(try StudyTrial(spec: spec).run(parentCheckpoint: parent, cancellation: flag, progress: { _, _ in
            steps += 1
            if steps == 5 { flag.requestStop() }
        }, snapshots: snapshots)) { XCTAssertTrue($0 is TrainingStopped, "\(role): \($0)") }
        let (bytes, step) = try XCTUnwrap(saved, "\(role): a stopped trial stores a snapshot")
        XCTAssertEqual(step, 6, "\(role): the stop is noticed after the step in progress")

        let resumed = try StudyTrial(spec: spec).run(parentCheckpoint: parent, snapshots: StudyTrial.Snapshots(resume: (bytes, step)) { _, _ in })
        XCTAssertEqual(resumed.metrics["resumed_from_step"], .int(6))
        XCTAssertEqual(resumed.metrics["clean_accuracy"], uninterrupted.metrics["clean_accuracy"], "\(role)")
        XCTAssertEqual(resumed.metrics["attacks"], uninterrupted.metrics["attacks"], "\(role)")
        let a = try SafeTensors.decode(try XCTUnwrap(uninterrupted.artifact).bytes, path: "uninterrupted")
        let b = try SafeTensors.decode(try XCTUnwrap(resumed.artifact).bytes, path: "resumed")
        XCTAssertEqual(a.tensors.map(\.0), b.tensors.map(\.0))
        for ((name, x), (_, y)) in zip(a.tensors, b.tensors) { XCTAssertEqual(x.values, y.values, "\(role): \(name) differs after the resume") }
    }

    func write(_ bytes: Data) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rt-study-\(UUID().uuidString).safetensors").path
        try bytes.write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }
}

