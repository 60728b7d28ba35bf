/// The seeds a stage runs and the parent trial each one starts from: the one home of the
/// fan-out rule, shared by the parser (which rejects what cannot be served), the expander and
/// the trial counter.
///
/// A study varies the fine-tuning, not the pre-training: `seeds: [1]` on the pre-training
/// stage and the sweep's `seeds: [1, 2, 3, 4]` make one source model and four fine-tunes of it.
/// Each child seed starts from the parent trial with the same seed when there is one, else from
/// the parent seed the stage names (`from_seed:`), else from the parent's only seed.
public enum StageSeeds {
    /// The seeds a stage's trials carry: its own `seeds:`, else the sweep's.
    public static func seeds(of stage: StageSpec, sweepSeeds: [Int]) -> [Int] { stage.seeds ?? sweepSeeds }

    /// The parent seed a child trial of `seed` starts from, or nil when the parent cannot serve
    /// it (the seed is missing, no `from_seed` is named, and the parent has several seeds).
    public static func parentSeed(for seed: Int, parentSeeds: Set<Int>, fromSeed: Int?) -> Int? {
        if parentSeeds.contains(seed) { return seed }
        if let fromSeed { return parentSeeds.contains(fromSeed) ? fromSeed : nil }
        return parentSeeds.count == 1 ? parentSeeds.first : nil
    }

    /// Why `stage` cannot be expanded against its parents' seeds, or nil when every one of its
    /// seeds has a parent trial in every stage of `from:`. `parentSeeds` maps a stage name to
    /// the seeds its trials carry.
    public static func problem(with stage: StageSpec, sweepSeeds: [Int], parentSeeds: [String: Set<Int>]) -> String? {
        for parent in stage.from {
            guard let available = parentSeeds[parent] else { continue }
            let listed = available.sorted().map(String.init).joined(separator: ", ")
            if let named = stage.fromSeed, !available.contains(named) {
                return "from_seed \(named) is not a seed of parent stage \"\(parent)\" (it has seeds \(listed))"
            }
            for seed in seeds(of: stage, sweepSeeds: sweepSeeds)
            where parentSeed(for: seed, parentSeeds: available, fromSeed: stage.fromSeed) == nil {
                return "seed \(seed) has no trial of parent stage \"\(parent)\" to start from (it has seeds \(listed)); "
                    + "name the one to start from with from_seed:, or give this stage seeds its parent has"
            }
        }
        return nil
    }

    /// The seeds each stage's trials will carry, stage by stage: what `problem` checks a later
    /// stage against.
    static func seedSets(of trials: [TrialSpec]) -> [String: Set<Int>] {
        Dictionary(grouping: trials, by: \.stage).mapValues { Set($0.map(\.seed)) }
    }
}
