import Foundation

/// One trial as expanded from a sweep: everything needed to run it, fixed before anything runs.
public struct TrialSpec: Equatable, Sendable {
    /// `<stage>-<index>`, stable for a given sweep file.
    public var id: String
    public var stage: String
    public var job: String
    public var parameters: [String: JSONValue]
    public var seed: Int
    /// The trial whose artifact this one consumes (`from:`), nil for a root stage.
    public var parentTrialID: String?
    public var maxAttempts: Int
    /// Position in expansion order; the scheduler leases ready trials in this order.
    public var order: Int
    /// Workers that run the trial together (data-parallel replicas); 1 for an ordinary trial.
    public var replicas: Int = 1
}

/// Expands a sweep into trials: grid axes x random samples x seeds for root stages,
/// grid axes x random samples x parent trials for `from:` stages. Deterministic.
public enum SweepExpander {
    public static func expand(_ sweep: SweepSpec) -> [TrialSpec] {
        var trials: [TrialSpec] = []
        var byStage: [String: [TrialSpec]] = [:]
        for stage in sweep.stages {
            let points = gridPoints(stage.grid)
            let samples = randomSamples(stage.random)
            var stageTrials: [TrialSpec] = []
            // Each element: (seed, parent trial id)
            let origins: [(Int, String?)] = stage.from.map { parent in byStage[parent, default: []].map { ($0.seed, $0.id) } }
                ?? sweep.seeds.map { ($0, nil) }
            for (seed, parent) in origins {
                for point in points {
                    for sample in samples {
                        var parameters = stage.parameters
                        parameters.merge(point) { $1 }
                        parameters.merge(sample) { $1 }
                        let index = stageTrials.count
                        stageTrials.append(TrialSpec(
                            id: String(format: "%@-%04d", stage.name, index), stage: stage.name, job: stage.job,
                            parameters: parameters, seed: seed, parentTrialID: parent,
                            maxAttempts: 1 + (stage.retries ?? sweep.retries), order: trials.count + index,
                            replicas: stage.replicas))
                    }
                }
            }
            byStage[stage.name] = stageTrials
            trials += stageTrials
        }
        return trials
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
