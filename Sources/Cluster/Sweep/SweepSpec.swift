import Foundation

/// A sweep as written in YAML, validated: see cluster/sweeps/*.yaml and docs/CLUSTER.md.
public struct SweepSpec: Equatable, Sendable {
    public var name: String
    /// Every trial of a root stage runs once per seed; dependent stages inherit their parent's seed.
    public var seeds: [Int]
    public var stages: [StageSpec]
    /// Default retry budget of every stage (re-leases after a lost worker or a failure).
    public var retries: Int
}

public struct StageSpec: Equatable, Sendable {
    public var name: String
    public var job: String
    public var parameters: [String: JSONValue]
    /// Cartesian product, in the order written.
    public var grid: [GridAxis]
    public var random: RandomAxes?
    /// Runs once per artifact (trial) of this stage.
    public var from: String?
    public var retries: Int?
    /// Data-parallel replicas of each trial: k workers run it together (gang-scheduled).
    public var replicas: Int = 1
}

public struct GridAxis: Equatable, Sendable {
    public var name: String
    public var values: [JSONValue]
}

public struct RandomAxes: Equatable, Sendable {
    public var count: Int
    public var seed: UInt64
    public var axes: [RandomAxis]
}

public struct RandomAxis: Equatable, Sendable {
    public var name: String
    public var distribution: Distribution
}

public enum Distribution: Equatable, Sendable {
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
