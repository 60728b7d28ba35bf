/// Counts the trials a sweep expands to, stage by stage, without building any: the same
/// arithmetic as `SweepExpander` (per seed of the stage, the product of the trials each parent
/// has with the seed it starts from, `StageSeeds`; a root stage once per seed; each times its
/// grid points and random samples), saturated just above the limit so nothing overflows.
struct TrialCounter {
    let limits: SweepLimits
    let seeds: [Int]
    /// stage -> seed -> trials of that stage with that seed.
    private var bySeed: [String: [Int: Int]] = [:]
    private(set) var total = 0

    init(limits: SweepLimits, seeds: [Int], existing: [TrialSpec] = []) {
        self.limits = limits
        self.seeds = seeds
        for trial in existing { bySeed[trial.stage, default: [:]][trial.seed, default: 0] += 1 }
        // Appended stages grow the stored sweep: its trials count towards the same limit.
        total = min(existing.count, limits.maxTrials + 1)
    }

    /// Adds a stage; returns the trials it makes and the sweep's total so far (both saturated).
    mutating func add(_ stage: StageSpec) -> (made: Int, total: Int) {
        let points = stage.grid.reduce(1) { limits.product($0, $1.values.count) }
        let perOrigin = limits.product(points, stage.random?.count ?? 1)
        var counts: [Int: Int] = [:]
        for seed in StageSeeds.seeds(of: stage, sweepSeeds: seeds) {
            var origins = 1
            for parent in stage.from {
                let available = bySeed[parent, default: [:]]
                let source = StageSeeds.parentSeed(for: seed, parentSeeds: Set(available.keys), fromSeed: stage.fromSeed)
                origins = limits.product(origins, source.flatMap { available[$0] } ?? 0)
            }
            if origins > 0 { counts[seed] = limits.product(origins, perOrigin) }
        }
        bySeed[stage.name] = counts
        let made = counts.values.reduce(0) { limits.sum($0, $1) }
        total = limits.sum(total, made)
        return (made, total)
    }
}

extension SweepExpander {
    /// How many trials `expand(spec)` makes, without making them.
    public static func count(_ spec: SweepSpec) -> Int {
        var counter = TrialCounter(limits: SweepLimits(maxTrials: Int.max - 1), seeds: spec.seeds)
        for stage in spec.stages { _ = counter.add(stage) }
        return counter.total
    }
}
