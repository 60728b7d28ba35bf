import Cluster
import Foundation
import XCTest

/// A reduced default study — the same roles and DAG (one source model fanned out to both target
/// seeds), synthetic data, a tiny model — run by `rt study` on a real local cluster of 2 worker
/// processes, then read back from the store.
final class StudyEndToEndTests: XCTestCase {
    /// The roles' shared parameters (a YAML anchor under `defaults:`).
    static let defaults = """
        defaults:
          study: &study
            model: small-cnn
            source: {dataset: "synthetic:classes=4,channels=1,size=12,train=480,test=120,seed=9", classes: 0-1, epochs: 2}
            target: {dataset: "synthetic:classes=4,channels=1,size=12,train=480,test=120,seed=9", classes: 2-3, per_class: 60, epochs: 2}
            batch_size: 32
            attack_examples: 40
            eval_every: 1
            eval_examples: 10
            eval_attack_examples: 10
            attacks:
              - {attack: pgd, steps: 3, eps: [2/255, 16/255]}
              - {attack: fgsm, eps: [16/255]}
        """

    static let sweep = """
        name: tiny-study
        seeds: [1, 2]
        retries: 1
        \(defaults)
        stages:
          - {name: pretrain, job: pretrain, seeds: [1], parameters: *study}
          - {name: robust-pretrain, job: robust-pretrain, seeds: [1], parameters: {<<: *study, train_eps: 8/255, train_steps: 2}}
          - {name: standard, job: standard, parameters: *study}
          - {name: finetune, job: finetune, from: pretrain, parameters: {<<: *study, cka_examples: 40}}
          - {name: dm, job: dm, from: robust-pretrain, parameters: {<<: *study, train_steps: 2}}
          - {name: trades, job: trades, from: robust-pretrain, parameters: {<<: *study, train_steps: 2}}
        """

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testReducedDefaultStudyRunsOnTwoWorkers() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-study-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sweepURL = directory.appendingPathComponent("tiny-study.yaml")
        try Self.sweep.write(to: sweepURL, atomically: true, encoding: .utf8)
        let runs = directory.appendingPathComponent("runs")

        let (status, output) = try RTProcess.run(["study", sweepURL.path, "--workers", "2", "--runs", runs.path, "--quiet"], in: directory)
        XCTAssertEqual(status, 0, output)

        let store = try RunStore(path: RunStore.url(runDirectory: runs.appendingPathComponent("tiny-study")).path, readOnly: true)
        let report = try store.report()
        XCTAssertEqual(report.counts, ["done": 10], output)
        XCTAssertEqual(Set(report.trials.compactMap(\.worker)).count, 2, "both workers ran trials")
        for trial in report.trials {
            let metrics = try XCTUnwrap(trial.metrics, trial.id)
            XCTAssertEqual(metrics["role"], .string(trial.job), trial.id)
            XCTAssertEqual(metrics["attacks"]?.arrayValue?.count, 3, trial.id)
            XCTAssertEqual(try store.masks(trialID: trial.id)["pgd-linf-16/255"]?.count, 40, trial.id)
            XCTAssertNotNil(trial.artifact, "\(trial.id) stored its checkpoint")
            // The learning curve: both epochs, each with its validation points (eval_every: 1).
            let curve = try XCTUnwrap(metrics["learning_curve"]?.arrayValue, trial.id)
            XCTAssertEqual(curve.compactMap { $0.objectValue?["epoch"] }, [.int(1), .int(2)], trial.id)
            XCTAssertTrue(curve.allSatisfy { $0.objectValue?["val_accuracy"]?.doubleValue != nil && $0.objectValue?["val_robust_accuracy"] != nil }, trial.id)
        }
        XCTAssertNotNil(report.trials.first { $0.stage == "finetune" }?.metrics?["cka"], "finetune measured CKA against its parent")
        // Lineage: every fine-tuning role of both target seeds starts from the one pre-training trial.
        let byID = Dictionary(uniqueKeysWithValues: report.trials.map { ($0.id, $0) })
        for trial in report.trials where ["finetune", "dm", "trades"].contains(trial.stage) {
            let parent = try XCTUnwrap(trial.parent.flatMap { byID[$0] }, trial.id)
            XCTAssertEqual(parent.seed, 1)
            XCTAssertEqual(parent.id, trial.stage == "finetune" ? "pretrain-0000" : "robust-pretrain-0000")
        }
        XCTAssertEqual(Set(report.trials.filter { $0.stage == "finetune" }.map(\.seed)), [1, 2])
        XCTAssertTrue(output.contains("Study finished"), output)
        XCTAssertTrue(output.contains("Headline: "), "the terminal summary leads with the headline: \(output)")
        XCTAssertTrue(output.replacingOccurrences(of: "\n", with: " ").contains("all 2 finetune trials start from one source model (pretrain-0000)"), output)
        let html = runs.appendingPathComponent("tiny-study/report.html")
        XCTAssertTrue(try String(contentsOf: html, encoding: .utf8).contains("Learning curves on "))
        // Headless Chromium loads it without a console message (the script skips without Chromium).
        let checked = try RTProcess.run([Self.repository.appendingPathComponent("scripts/check_report_html.sh").path, html.path], in: directory,
                                        executable: URL(fileURLWithPath: "/bin/bash"))
        XCTAssertEqual(checked.status, 0, checked.output)
        XCTAssertTrue(checked.output.contains("PASS") || checked.output.contains("SKIP"), checked.output)

        // The report's numbers are the stored results: each group's mean is the mean of its trials' metrics.
        let runDirectory = runs.appendingPathComponent("tiny-study").path
        var json = try RTProcess.run(["report", runDirectory, "--format", "json"], in: directory)
        XCTAssertEqual(json.status, 0, json.output)
        var study = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        var groups = try XCTUnwrap(study["groups"] as? [[String: Any]])
        XCTAssertEqual(Set(groups.compactMap { $0["stage"] as? String }), ["pretrain", "robust-pretrain", "standard", "finetune", "dm", "trades"])
        for group in groups {
            let stage = try XCTUnwrap(group["stage"] as? String)
            let stored = report.trials.filter { $0.stage == stage }.compactMap { $0.metrics?["clean_accuracy"]?.doubleValue }
            let clean = try XCTUnwrap(group["clean_accuracy"] as? [String: Any])
            XCTAssertEqual(try XCTUnwrap(clean["mean"] as? Double), stored.reduce(0, +) / Double(stored.count), accuracy: 1e-12, stage)
            XCTAssertEqual(clean["n"] as? Int, stage.hasSuffix("pretrain") ? 1 : 2, "one source model, two target seeds")
            for case let attack as [String: Any] in try XCTUnwrap(group["attacks"] as? [Any]) {
                let setting = try XCTUnwrap(attack["setting"] as? [String: Any])
                let label = try XCTUnwrap(setting["eps_label"] as? String), name = try XCTUnwrap(setting["attack"] as? String)
                let values = try report.trials.filter { $0.stage == stage }.map { trial -> Double in
                    let entry = try XCTUnwrap(trial.metrics?["attacks"]?.arrayValue?.first {
                        $0.objectValue?["eps_label"]?.stringValue == label && $0.objectValue?["attack"]?.stringValue == name
                    }?.objectValue)
                    return try XCTUnwrap(entry["robust_accuracy"]?.doubleValue)
                }
                let robust = try XCTUnwrap(attack["robust_accuracy"] as? [String: Any])
                XCTAssertEqual(try XCTUnwrap(robust["mean"] as? Double), values.reduce(0, +) / Double(values.count), accuracy: 1e-12, "\(stage) \(name) \(label)")
            }
        }
        XCTAssertNotNil((study["paired_differences"] as? [Any])?.first, "finetune − standard is paired by seed")

        // A stronger attack without retraining: new trials of the same run, folded into the rows they measured.
        let evaluate = ["evaluate", runDirectory, "--attack", "pgd", "--eps", "48/255", "--steps", "4", "--examples", "30", "--stages", "standard,finetune", "--quiet"]
        var run = try RTProcess.run(evaluate, in: directory)
        XCTAssertEqual(run.status, 0, run.output)
        let after = try RunStore(path: RunStore.url(runDirectory: runs.appendingPathComponent("tiny-study")).path, readOnly: true).report()
        XCTAssertEqual(after.counts, ["done": 14], run.output)
        XCTAssertEqual(after.trials.filter { $0.job == "evaluate" }.count, 4)
        for trial in report.trials { XCTAssertEqual(after.trials.first { $0.id == trial.id }?.attempts, trial.attempts, "\(trial.id) was not re-run") }
        json = try RTProcess.run(["report", runDirectory, "--format", "json"], in: directory)
        study = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        groups = try XCTUnwrap(study["groups"] as? [[String: Any]])
        func labels(_ stage: String) -> [String] {
            let group = groups.first { $0["stage"] as? String == stage }
            return ((group?["attacks"] as? [[String: Any]]) ?? []).compactMap { ($0["setting"] as? [String: Any])?["eps_label"] as? String }
        }
        XCTAssertTrue(labels("finetune").contains("48/255"), "\(labels("finetune"))")
        XCTAssertFalse(labels("dm").contains("48/255"))
        run = try RTProcess.run(evaluate, in: directory)
        XCTAssertEqual(run.status, 0, "the same attack again adds nothing and succeeds: \(run.output)")
        XCTAssertEqual(try RunStore(path: RunStore.url(runDirectory: runs.appendingPathComponent("tiny-study")).path, readOnly: true).report().trials.count, 14)
    }

    /// Data-parallel fine-tuning: the finetune stage asks for `replicas: 2`, both workers train it
    /// together over the ring, and rank 0 measures and reports as a single-replica trial would.
    func testFineTuningWithTwoReplicas() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-study-dp-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sweepURL = directory.appendingPathComponent("dp-study.yaml")
        try """
            name: dp-study
            seeds: [1]
            \(Self.defaults)
            stages:
              - {name: pretrain, job: pretrain, parameters: *study}
              - {name: finetune, job: finetune, from: pretrain, replicas: 2, parameters: *study}
            """.write(to: sweepURL, atomically: true, encoding: .utf8)
        let runs = directory.appendingPathComponent("runs")
        let (status, output) = try RTProcess.run(["study", sweepURL.path, "--workers", "2", "--runs", runs.path, "--quiet"], in: directory)
        XCTAssertEqual(status, 0, output)
        let store = try RunStore(path: RunStore.url(runDirectory: runs.appendingPathComponent("dp-study")).path, readOnly: true)
        let report = try store.report()
        XCTAssertEqual(report.counts, ["done": 2], output)
        let finetune = try XCTUnwrap(report.trials.first { $0.stage == "finetune" })
        let metrics = try XCTUnwrap(finetune.metrics)
        XCTAssertEqual(metrics["replicas"], .int(2))
        XCTAssertEqual(metrics["role"], .string("finetune"))
        XCTAssertNotNil(metrics["clean_accuracy"]?.doubleValue)
        XCTAssertEqual(metrics["attacks"]?.arrayValue?.count, 3)
        XCTAssertEqual(try store.masks(trialID: finetune.id)["pgd-linf-16/255"]?.count, 40)
        XCTAssertNotNil(finetune.artifact, "rank 0 stored the fine-tuned checkpoint")
    }
}

/// Runs the built `rt` ($RT_BINARY, else next to the test bundle) and collects its output.
enum RTProcess {
    static func binary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["RT_BINARY"] { return URL(fileURLWithPath: path) }
        let bundle = Bundle(for: StudyEndToEndTests.self).bundleURL.deletingLastPathComponent()
        let candidates = [bundle.appendingPathComponent("rt"), URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rt")]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw JobError("rt is not built next to the tests (looked in \(candidates.map(\.path))); scripts/test.sh builds it first")
        }
        return found
    }

    /// Runs `rt` (or `executable`) with `arguments`; returns its exit status and output.
    static func run(_ arguments: [String], in directory: URL, executable: URL? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = try executable ?? binary()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let log = directory.appendingPathComponent("rt-\(URL(fileURLWithPath: arguments[0]).lastPathComponent)-\(UUID().uuidString.prefix(6)).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}
