import Foundation

/// One trial as expanded from a sweep: everything needed to run it, fixed before anything runs.
public struct TrialSpec: Equatable, Sendable {
    /// `<stage>-<index>`, stable for a given sweep file.
    public var id: String
    public var stage: String
    public var job: String
    public var parameters: [String: JSONValue]
    public var seed: Int
    /// The trials whose artifacts this one consumes, one per stage of `from:`, in that order;
    /// empty for a root stage.
    public var parentTrialIDs: [String]
    public var maxAttempts: Int
    /// Position in expansion order; the scheduler leases ready trials in this order.
    public var order: Int

    /// The first parent: the one whose artifact the lineage records (`artifacts.parent_hash`).
    public var parentTrialID: String? { parentTrialIDs.first }
    /// Workers that run the trial together (data-parallel replicas); 1 for an ordinary trial.
    public var replicas: Int = 1
}

/// Expands a sweep into trials: grid axes x random samples x seeds for root stages,
/// grid axes x random samples x parent combinations for `from:` stages. Deterministic.
///
/// A stage `from: [a, b, c]` runs, for each of its seeds (its own `seeds:`, else the sweep's),
/// once per trial of `a` with the seed that seed starts from (the same one, or the fan-out
/// source: `StageSeeds`); for `b` and `c` likewise, once per combination when a stage has
/// several (the last listed stage varies fastest). Within one parent combination the grid
/// varies slower than the random samples.
public enum SweepExpander {
    public static func expand(_ sweep: SweepSpec) -> [TrialSpec] {
        expand(sweep.stages, after: [], seeds: sweep.seeds, retries: sweep.retries)
    }

    /// Expands `stages` as if they followed the stages whose trials are `existing` (an
    /// appended stage may name them in `from:`). Orders continue after the largest existing one.
    public static func expand(_ stages: [StageSpec], after existing: [TrialSpec], seeds: [Int], retries: Int) -> [TrialSpec] {
        var byStage: [String: [TrialSpec]] = [:]
        for trial in existing.sorted(by: { $0.order < $1.order }) { byStage[trial.stage, default: []].append(trial) }
        var byID = Dictionary(existing.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let firstOrder = (existing.map(\.order).max() ?? -1) + 1
        var trials: [TrialSpec] = []
        for stage in stages {
            let points = gridPoints(stage.grid)
            let samples = randomSamples(stage.random)
            var stageTrials: [TrialSpec] = []
            for (seed, parents) in origins(of: stage, byStage: byStage, seeds: seeds) {
                for point in points {
                    for sample in samples {
                        var parameters = stage.parameters
                        parameters.merge(point) { $1 }
                        parameters.merge(sample) { $1 }
                        if let keys = stage.inherit, let parent = parents.first.flatMap({ byID[$0] }) {
                            for key in keys where parameters[key] == nil { parameters[key] = parent.parameters[key] }
                        }
                        let index = stageTrials.count
                        stageTrials.append(TrialSpec(
                            id: String(format: "%@-%04d", stage.name, index), stage: stage.name, job: stage.job,
                            parameters: parameters, seed: seed, parentTrialIDs: parents,
                            maxAttempts: 1 + (stage.retries ?? retries), order: firstOrder + trials.count + index,
                            replicas: stage.replicas))
                    }
                }
            }
            byStage[stage.name] = stageTrials
            for trial in stageTrials { byID[trial.id] = trial }
            trials += stageTrials
        }
        return trials
    }

    /// (seed, parent trial ids) for each trial of `stage` before its grid and random axes: per
    /// seed of the stage, the trials of the first parent with the seed it starts from
    /// (`StageSeeds.parentSeed`), each combined with the trials of every other parent with
    /// theirs. A seed some parent cannot serve makes no trial (the parser rejects such stages).
    static func origins(of stage: StageSpec, byStage: [String: [TrialSpec]], seeds: [Int]) -> [(seed: Int, parents: [String])] {
        let stageSeeds = StageSeeds.seeds(of: stage, sweepSeeds: seeds)
        guard !stage.from.isEmpty else { return stageSeeds.map { ($0, []) } }
        let parents: [[Int: [String]]] = stage.from.map { name in
            Dictionary(grouping: byStage[name, default: []], by: \.seed).mapValues { $0.map(\.id) }
        }
        return stageSeeds.flatMap { seed -> [(seed: Int, parents: [String])] in
            var combinations: [[String]] = [[]]
            for bySeed in parents {
                guard let source = StageSeeds.parentSeed(for: seed, parentSeeds: Set(bySeed.keys), fromSeed: stage.fromSeed) else { return [] }
                let matches = bySeed[source, default: []]
                combinations = combinations.flatMap { combination in matches.map { combination + [$0] } }
            }
            return combinations.map { (seed, $0) }
        }
    }

    static func gridPoints(_ axes: [GridAxis]) -> [[String: JSONValue]] {
        var points: [[String: JSONValue]] = [[:]]
        for axis in axes {
            points = points.flatMap { point in axis.values.map { value in point.merging([axis.name: value]) { $1 } } }
        }
        return points
    }

    static func randomSamples(_ random: RandomAxes?) -> [[String: JSONValue]] {
        guard let random else { return [[:]] }
        var generator = SplitMix64(seed: random.seed)
        return (0..<random.count).map { _ in
            var sample: [String: JSONValue] = [:]
            for axis in random.axes {
                let u = generator.nextUnitDouble()
                switch axis.distribution {
                case let .uniform(low, high):
                    sample[axis.name] = .double(low + (high - low) * u)
                case let .logUniform(low, high):
                    sample[axis.name] = .double(exp(log(low) + (log(high) - log(low)) * u))
                case let .choice(options):
                    sample[axis.name] = options[min(Int(u * Double(options.count)), options.count - 1)]
                }
            }
            return sample
        }
    }
}

/// SplitMix64: tiny, seedable, identical on every platform (the sweep must expand the same
/// way on every host and after every restart).
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 bits.
    public mutating func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
