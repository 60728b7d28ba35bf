import Cluster
import Foundation
import XCTest

/// A real run store in a temporary directory, filled the way the coordinator fills it
/// (createSweep, lease, commitResult, releaseLease), with metrics as docs/STUDY.md specifies.
final class StudyStoreFixture {
    static let target = "fashion-mnist[5-9]"
    static let source = "fashion-mnist[0-4]"
    static let model = "small-cnn"

    let directory: URL
    let store: RunStore
    private var secondsSoFar = 0.0

    init(sweep text: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-reports-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let sweep = try SweepParser(file: "study.yaml").parse(text)
        store = try RunStore(path: RunStore.url(runDirectory: directory).path)
        try store.createSweep(sweep, text: text, trials: SweepExpander.expand(sweep))
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Leases and completes a trial; each completion takes 10 s more than the one before
    /// (10, 20, 30, ...), so duration statistics have known values.
    func complete(_ id: String, _ metrics: [String: JSONValue], worker: String = "w1", host: String = "h1") throws {
        let attempt = try XCTUnwrap(store.lease(trialID: id, worker: worker, host: host), "\(id) was not pending")
        secondsSoFar += 10
        let outcome = try store.commitResult(trialID: id, attempt: attempt, worker: worker, host: host, metrics: metrics,
                                             masks: [("clean", Data([1, 0, 1]))], artifact: nil, seconds: secondsSoFar)
        XCTAssertEqual(outcome, .accepted)
    }

    /// A lease that ends without a result (the worker died or the job threw).
    func loseLease(_ id: String, reason: String, worker: String = "w1") throws {
        _ = try XCTUnwrap(store.lease(trialID: id, worker: worker, host: "h1"), "\(id) was not pending")
        try store.releaseLease(trialID: id, reason: reason, worker: worker)
    }
}

/// One attack's numbers in a trial's metrics.
struct AttackValues {
    var attack = "pgd"
    var norm = "linf"
    var eps: Double
    var epsLabel: String
    var steps = 10
    var robust: Double
    var success: Double
    var confidenceClean: Double
    var confidenceAdversarial: Double
}

/// `results.metrics` of a study trial (docs/STUDY.md).
func studyMetrics(role: String, task: String, model: String = StudyStoreFixture.model, clean: Double, confidence: Double,
                  attacks: [AttackValues], worstCase: Double?, cka: [(reference: String, layer: String, value: Double)] = []) -> [String: JSONValue] {
    var metrics: [String: JSONValue] = [
        "role": .string(role), "dataset": "fashion-mnist", "classes": .string(String(task.dropFirst("fashion-mnist[".count).dropLast())),
        "task": .string(task), "model": .string(model), "train_examples": 1500, "epochs": 8,
        "clean_accuracy": .double(clean), "clean_examples": 5000, "mean_true_confidence": .double(confidence),
        "attacked_examples": 500, "attacked_clean_accuracy": .double(clean),
        "attacks": .array(attacks.map { attack in
            .object(["attack": .string(attack.attack), "norm": .string(attack.norm), "eps": .double(attack.eps),
                     "eps_label": .string(attack.epsLabel), "steps": .int(attack.steps), "robust_accuracy": .double(attack.robust),
                     "success_rate": .double(attack.success), "mean_true_confidence_clean": .double(attack.confidenceClean),
                     "mean_true_confidence_adv": .double(attack.confidenceAdversarial)])
        }),
        "train_seconds": .double(51.2), "eval_seconds": .double(30.4),
    ]
    if let worstCase { metrics["worst_case_accuracy"] = .double(worstCase) }
    if !cka.isEmpty {
        metrics["cka"] = .array(cka.map { .object(["reference": .string($0.reference), "layer": .string($0.layer), "value": .double($0.value)]) })
    }
    return metrics
}

extension JSONValue: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(stringLiteral value: String) { self = .string(value) }
}
