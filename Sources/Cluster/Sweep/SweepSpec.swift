import Foundation

/// A sweep as written in YAML, validated: see cluster/sweeps/*.yaml and docs/CLUSTER.md.
public struct SweepSpec: Equatable, Sendable {
    public var name: String
    /// The study's seeds: every stage runs once per seed (and per grid point) unless it sets
    /// its own `seeds:`; a child trial starts from the parent trial of its seed (`StageSeeds`).
    public var seeds: [Int]
    public var stages: [StageSpec]
    /// Default retry budget of every stage (re-leases after a lost worker or a failure).
    public var retries: Int
}

/// One stage of a sweep. Codable because stages appended to a stored run are kept in the
/// store as canonical JSON (`RunStore.appendStages`).
public struct StageSpec: Codable, Equatable, Sendable {
    public var name: String
    public var job: String
    public var parameters: [String: JSONValue]
    /// Cartesian product, in the order written.
    public var grid: [GridAxis]
    public var random: RandomAxes?
    /// Parent stages, in the order written (`from: a` or `from: [a, b]`); empty for a root stage.
    /// The stage runs once per trial of the first; of every other it takes the trials with the
    /// same seed (once per combination when several share it). See `SweepExpander`.
    public var from: [String]
    /// Parameters copied from the first parent trial unless this stage sets them (`inherit:
    /// [model, tasks]`): a fine-tune of the resnet8 pre-training is a resnet8 fine-tune. nil
    /// when not given, so stored definitions written before it existed keep their canonical text.
    public var inherit: [String]?
    public var retries: Int?
    /// Data-parallel replicas of each trial: k workers run it together (gang-scheduled).
    public var replicas: Int = 1
    /// The stage's own seeds (`seeds: [1]` runs one pre-training for the whole study); nil: the
    /// sweep's. A child with more seeds than its parent fans out (`StageSeeds.parentSeed`).
    public var seeds: [Int]?
    /// The parent seed that child seeds the parent lacks start from (`from_seed:`); needed only
    /// when the parent has several seeds. nil when not given.
    public var fromSeed: Int?

    public init(name: String, job: String, parameters: [String: JSONValue] = [:], grid: [GridAxis] = [],
                random: RandomAxes? = nil, from: [String] = [], inherit: [String]? = nil, retries: Int? = nil, replicas: Int = 1,
                seeds: [Int]? = nil, fromSeed: Int? = nil) {
        self.inherit = inherit
        self.seeds = seeds
        self.fromSeed = fromSeed
        self.name = name
        self.job = job
        self.parameters = parameters
        self.grid = grid
        self.random = random
        self.from = from
        self.retries = retries
        self.replicas = replicas
    }

    /// The stage's definition as canonical JSON (sorted keys): two stages are the same stage
    /// when this text is equal. Parameters are stored as JSON, so `1` and `1.0` count as equal.
    public var canonicalDefinition: String { ClusterJSON.string(self) }
}

public struct GridAxis: Codable, Equatable, Sendable {
    public var name: String
    public var values: [JSONValue]
    public init(name: String, values: [JSONValue]) {
        self.name = name
        self.values = values
    }
}

public struct RandomAxes: Codable, Equatable, Sendable {
    public var count: Int
    public var seed: UInt64
    public var axes: [RandomAxis]
    public init(count: Int, seed: UInt64, axes: [RandomAxis]) {
        self.count = count
        self.seed = seed
        self.axes = axes
    }
}

public struct RandomAxis: Codable, Equatable, Sendable {
    public var name: String
    public var distribution: Distribution
    public init(name: String, distribution: Distribution) {
        self.name = name
        self.distribution = distribution
    }
}

public enum Distribution: Codable, Equatable, Sendable {
    case uniform(low: Double, high: Double)
    case logUniform(low: Double, high: Double)
    case choice([JSONValue])
}

/// A sweep file that cannot be used. The description reads `file:line:column: key: problem`.
public struct SweepError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    /// Dotted path of the key at fault, e.g. `stages[1].grid.lr`.
    public var key: String
    public var problem: String

    public var description: String { "\(file):\(line):\(column): \(key): \(problem)" }
}
