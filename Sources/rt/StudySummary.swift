import Cluster
import Foundation

/// What `rt study` prints when the sweep ends.
enum StudySummary {
    static func print(runDirectory: URL, wallSeconds: Double) throws {
        let store = try RunStore(path: RunStore.url(runDirectory: runDirectory).path, readOnly: true)
        let report = try store.report()
        for trial in report.trials {
            let metrics = trial.metrics ?? [:]
            let clean = metrics["clean_accuracy"]?.doubleValue ?? .nan
            let attacks = metrics["attacks"]?.arrayValue ?? []
            let robust = attacks.compactMap { a -> String? in
                guard case let .object(o) = a else { return nil }
                return "\(o["attack"]?.stringValue ?? "?")@\(o["eps_label"]?.stringValue ?? "?")=\(String(format: "%.3f", o["robust_accuracy"]?.doubleValue ?? .nan))"
            }
            Swift.print("\(trial.id)\t\(trial.state)\tclean \(String(format: "%.3f", clean))\t\(robust.joined(separator: " "))")
        }
        Swift.print(String(format: "wall time %.0f s; run stored in %@", wallSeconds, runDirectory.path))
    }
}
