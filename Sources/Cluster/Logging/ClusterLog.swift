import Foundation
import Logging

/// The loggers of `rt`'s processes (coordinator, worker, ring, replica, ...), on apple/swift-log.
/// Every logger made here writes `ClusterLogHandler`'s lines to standard error, whether or not the
/// process bootstrapped `LoggingSystem`, so a test that runs a coordinator in-process sees the
/// same lines a user sees. The level is one setting per process (`level`): a command sets it from
/// `--log-level`/`--quiet` or `RT_LOG_LEVEL` before it makes the parts that log.
public enum ClusterLog {
    /// The environment variable that sets the level of every `rt` process that has no `--log-level`.
    public static let environmentKey = "RT_LOG_LEVEL"

    private static let lock = NSLock()
    nonisolated(unsafe) private static var processLevel: Logger.Level = .info

    /// The level of every logger that was not given its own; read under a lock, since any thread logs.
    public static var level: Logger.Level {
        get { lock.lock(); defer { lock.unlock() }; return processLevel }
        set { lock.lock(); processLevel = newValue; lock.unlock() }
    }

    /// A logger whose lines name `component` (its label) and carry `metadata` (e.g. `worker`, `trial`).
    public static func logger(_ component: String, metadata: Logger.Metadata = [:]) -> Logger {
        var logger = Logger(label: component, factory: { ClusterLogHandler(label: $0) })
        for (key, value) in metadata { logger[metadataKey: key] = value }
        return logger
    }

    /// Makes every `Logger(label:)` of this process (any library's) write the same lines.
    public static func bootstrap() {
        LoggingSystem.bootstrap { ClusterLogHandler(label: $0) }
    }

    /// The level names `--log-level` and `RT_LOG_LEVEL` take, least to most severe.
    public static var levelNames: [String] { Logger.Level.allCases.map(\.rawValue) }

    /// `name` as a level; nil when it is none of `levelNames`.
    public static func level(named name: String) -> Logger.Level? {
        Logger.Level(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased())
    }

    /// `RT_LOG_LEVEL` of `environment`, or nil when it is unset or empty.
    public static func environmentLevel(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Logger.Level? {
        guard let text = environment[environmentKey], !text.isEmpty else { return nil }
        guard let level = level(named: text) else { throw UnknownLogLevel(source: environmentKey, value: text) }
        return level
    }
}

/// A log level that is none of swift-log's, naming where it came from (`RT_LOG_LEVEL`, `--log-level`).
public struct UnknownLogLevel: Error, CustomStringConvertible {
    public var source: String
    public var value: String

    public init(source: String, value: String) {
        self.source = source
        self.value = value
    }

    public var description: String {
        "\(source): unknown log level '\(value)'; known: \(ClusterLog.levelNames.joined(separator: ", "))"
    }
}
