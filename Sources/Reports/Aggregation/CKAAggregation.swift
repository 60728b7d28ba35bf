import StudyMetrics

/// Mean and interval of `cka[].value` and `cka[].svcca` per (stage, variant, reference, layer) over seeds.
enum CKAAggregation {
    /// Ordered by stage and variant as in the groups, then reference and layer as first
    /// measured (layers in model order, not alphabetical: `layer10` after `layer2`).
    static func summarize(_ groups: [TrialGroup]) -> [CKASummary] {
        struct Key: Hashable { var stage, variant, reference, layer: String }
        var values: [Key: [Double]] = [:], svcca: [Key: [Double]] = [:], order: [Key] = []
        var referenceRank: [String: Int] = [:], layerRank: [String: Int] = [:], pairRank: [String: Int] = [:]
        for group in groups {
            for trial in group.trials {
                for entry in trial.metrics.cka {
                    let key = Key(stage: trial.stage, variant: trial.variant, reference: entry.reference, layer: entry.layer)
                    if values[key] == nil { order.append(key) }
                    values[key, default: []].append(entry.value)
                    if let score = entry.svcca { svcca[key, default: []].append(score) }
                    if referenceRank[entry.reference] == nil { referenceRank[entry.reference] = referenceRank.count }
                    if layerRank[entry.layer] == nil { layerRank[entry.layer] = layerRank.count }
                    let pair = "\(trial.stage)\u{1F}\(trial.variant)"
                    if pairRank[pair] == nil { pairRank[pair] = pairRank.count }
                }
            }
        }
        return order.sorted {
            (pairRank["\($0.stage)\u{1F}\($0.variant)"]!, referenceRank[$0.reference]!, layerRank[$0.layer]!)
                < (pairRank["\($1.stage)\u{1F}\($1.variant)"]!, referenceRank[$1.reference]!, layerRank[$1.layer]!)
        }.map { CKASummary(stage: $0.stage, variant: $0.variant, reference: $0.reference, layer: $0.layer, value: Estimate(values[$0]!)!,
                                svcca: svcca[$0].flatMap { Estimate($0) }) }
    }
}
