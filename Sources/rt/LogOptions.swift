import ArgumentParser
import Cluster
import Foundation
import Logging

/// `--log-level` of the commands that log (coordinator, worker, and the local clusters of run,
/// study and evaluate, which pass it to their children). The level of a process is, first found:
/// `--log-level`, `--quiet` (warning), `RT_LOG_LEVEL`, the command's default (info; warning for
/// the processes `rt train --replicas` and `rt bench allreduce` start).
struct LogOptions: ParsableArguments {
    @Option(name: .customLong("log-level"),
            help: "Least severe log line shown: \(ClusterLog.levelNames.joined(separator: ", ")) (default: $\(ClusterLog.environmentKey), else info; else warning for the coordinator and workers of run, study and evaluate).")
    var logLevel: String?

    func validate() throws {
        if let logLevel, ClusterLog.level(named: logLevel) == nil {
            throw ValidationError(UnknownLogLevel(source: "--log-level", value: logLevel).description)
        }
    }

    /// The level this command line asks for, or nil when it asks for none.
    func chosen(quiet: Bool = false) -> Logger.Level? {
        logLevel.flatMap(ClusterLog.level(named:)) ?? (quiet ? .warning : nil)
    }

    /// Sets this process's level (see the type's comment).
    func apply(quiet: Bool = false, default fallback: Logger.Level = .info) throws {
        ClusterLog.level = try chosen(quiet: quiet) ?? ClusterLog.environmentLevel() ?? fallback
    }

    /// For the children of a local cluster, which otherwise only warn: the level of this
    /// command line or of `RT_LOG_LEVEL`, else warning, as `--log-level` arguments.
    func childArguments() throws -> [String] {
        ["--log-level", (try chosen() ?? ClusterLog.environmentLevel() ?? .warning).rawValue]
    }

    /// The level of a process without `--log-level`: `RT_LOG_LEVEL`, else `fallback`.
    static func applyEnvironment(default fallback: Logger.Level) throws {
        ClusterLog.level = try ClusterLog.environmentLevel() ?? fallback
    }
}
