import Cluster
import Foundation

/// A child `rt` process; its output goes to ours unless `discardingOutput` (its errors always do).
/// It ends when this process ends, however this process ends (`SupervisedProcess`).
final class LocalProcess {
    private let process = Process()
    let label: String

    init(executable: URL, arguments: [String], label: String, discardingOutput: Bool = false) throws {
        self.label = label
        process.executableURL = executable
        process.arguments = arguments
        process.environment = SupervisedProcess.childEnvironment()
        if discardingOutput { process.standardOutput = FileHandle.nullDevice }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    /// The exit status, or 128 + the signal that killed it (as a shell reports it); -1 while running.
    var exitStatus: Int32 {
        switch end {
        case nil: return -1
        case let .exited(status)?: return status
        case let .killed(signal)?: return SignalExit.status(signal)
        }
    }

    enum End: Equatable {
        case exited(Int32)
        case killed(by: Int32)
    }

    var end: End? {
        guard !process.isRunning else { return nil }
        return process.terminationReason == .uncaughtSignal ? .killed(by: process.terminationStatus) : .exited(process.terminationStatus)
    }

    /// "the coordinator (pid 123) was killed by SIGKILL", "worker local-1 (pid 124) exited with status 1"
    var endDescription: String {
        switch end {
        case nil: return "\(label) (pid \(pid)) is running"
        case let .exited(status)?: return "\(label) (pid \(pid)) exited with status \(status)"
        case let .killed(signal)?: return "\(label) (pid \(pid)) was killed by \(SignalExit.name(signal))"
        }
    }

    func terminate() { kill(SIGTERM) }

    func kill(_ signal: Int32) {
        if process.isRunning { Foundation.kill(process.processIdentifier, signal) }
    }
}

/// One line on standard error from `rt` itself, for what happened to the processes it runs.
enum Notice {
    static func say(_ line: String) {
        FileHandle.standardError.write(Data("rt: \(line)\n".utf8))
    }
}

/// The command line that continues an interrupted run: this process's own, with `flag` added
/// when it is missing (e.g. `--resume`), quoted for a POSIX shell.
enum ContinueCommand {
    static func current(adding flag: String? = nil) -> String {
        var arguments = CommandLine.arguments
        if let flag, !arguments.contains(flag) { arguments.append(flag) }
        return arguments.map(quote).joined(separator: " ")
    }

    static func quote(_ argument: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
        if !argument.isEmpty && argument.allSatisfy(safe.contains) { return argument }
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
