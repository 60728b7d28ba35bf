import Cluster

/// Names what sets a trial apart from the other trials of its group besides the seed: the
/// parameters that vary among the trials of the same stage on the same task and model (grid and
/// random axes) and, for a `from:` stage, its parent's variant. Without this a stage with a grid
/// over `lr` would be averaged over learning rates as if they were seeds. Parameters that only
/// vary with the task or model (a grid over datasets) are already in the group key and left out.
enum TrialVariants {
    /// Variant text by trial id, e.g. `lr=0.01` or `pretrain.width=2, lr=0.01`; empty when the
    /// trial's stage has one setting per task and model.
    /// - Parameter cell: the task-and-model key of a trial (any constant for trials without one).
    static func variants(of trials: [TrialReport], cell: (TrialReport) -> String) -> [String: String] {
        let cells = Dictionary(trials.map { ($0.id, "\($0.stage)\u{1F}\(cell($0))") }, uniquingKeysWith: { first, _ in first })
        let varying = varyingKeys(trials, cells: cells)
        let byID = Dictionary(trials.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var memo: [String: [(stage: String, setting: String)]] = [:]

        func components(_ trial: TrialReport, depth: Int) -> [(stage: String, setting: String)] {
            if let known = memo[trial.id] { return known }
            var parts: [(stage: String, setting: String)] = []
            // The depth cap guards against a malformed store whose parents form a cycle.
            if let parentID = trial.parent, let parent = byID[parentID], depth < 64 {
                parts = components(parent, depth: depth + 1)
            }
            for key in varying[cells[trial.id] ?? "", default: []] {
                parts.append((trial.stage, "\(key)=\(trial.parameters[key]?.description ?? "-")"))
            }
            memo[trial.id] = parts
            return parts
        }
        return Dictionary(trials.map { trial in
            let text = components(trial, depth: 0)
                .map { $0.stage == trial.stage ? $0.setting : "\($0.stage).\($0.setting)" }
                .joined(separator: ", ")
            return (trial.id, text)
        }, uniquingKeysWith: { first, _ in first })
    }

    /// Per cell, the parameter keys whose values are not the same for all its trials, sorted.
    private static func varyingKeys(_ trials: [TrialReport], cells: [String: String]) -> [String: [String]] {
        var byCell: [String: [[String: JSONValue]]] = [:]
        for trial in trials { byCell[cells[trial.id] ?? "", default: []].append(trial.parameters) }
        return byCell.mapValues { parameterSets in
            let keys = Set(parameterSets.flatMap(\.keys))
            return keys.filter { key in Set(parameterSets.map { $0[key] }).count > 1 }.sorted()
        }
    }
}
