import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `bash -c COMMAND` run to its end or to a deadline, whichever comes first, for tests that
/// drive outside tools (Slurm's commands, the namespace scripts).
///
/// Not `Foundation.Process`: on Linux it learns that a child ended when every copy of a socket
/// it hands the child is closed, so a daemon the command starts (munged, slurmctld) keeps that
/// socket open and `waitUntilExit` never returns; that hung CI for an hour. Here the child gets
/// no descriptor but stdin (/dev/null) and its output files, the parent reaps it with `waitpid`,
/// and past the deadline its whole process group is killed.
struct ShellCommand {
    struct Outcome {
        let status: Int32
        let output: String
        /// Standard error when `separateErrors`, else empty (it is in `output`).
        let errors: String
        let timedOut: Bool
        /// Everything it printed, and the deadline's note if it was killed.
        var text: String { errors.isEmpty ? output : output + errors }
    }

    let command: String
    var environment: [String: String]? = nil
    var directory: URL? = nil
    var timeout: TimeInterval = 120
    var separateErrors = false

    /// Runs it to its end or to `timeout`.
    func run() -> Outcome { start().wait(timeout: timeout) }

    /// Starts it; the caller waits (or signals it) through the handle.
    func start() -> Running {
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("rt-shell-\(UUID().uuidString.prefix(8)).out")
        let errorsURL = outputURL.appendingPathExtension("err")
        // The shell first closes every descriptor it inherited beyond 0-2 (the test process's
        // sockets and pipes; glibc's closefrom action is not visible to Swift).
        // No redirection on the loop: bash would park the real stderr on a high descriptor for
        // it, the loop would close that one too, and stderr would be gone afterwards.
        let closeInherited = #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; (( fd > 2 )) && [ -e /proc/$$/fd/$fd ] && eval "exec $fd>&-"; done; "#
        let script = closeInherited + (directory.map { "cd \(Self.quoted($0.path)) && " } ?? "") + command

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if separateErrors {
            posix_spawn_file_actions_addopen(&actions, 2, errorsURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP)) // its own group, killed whole on timeout
        posix_spawnattr_setpgroup(&attributes, 0)

        let arguments = ["/bin/bash", "-c", script]
        let variables = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let spawned = Self.withCStrings(arguments) { argv in
            Self.withCStrings(variables) { envp in posix_spawn(&pid, "/bin/bash", &actions, &attributes, argv, envp) }
        }
        return Running(command: command, pid: spawned == 0 ? pid : nil, spawnError: spawned, outputURL: outputURL, errorsURL: errorsURL)
    }

    /// A started command. Its process group is killed when the handle goes away unreaped.
    final class Running {
        let command: String
        let pid: pid_t?
        private let spawnError: Int32
        private let outputURL: URL, errorsURL: URL
        private var status: Int32?

        fileprivate init(command: String, pid: pid_t?, spawnError: Int32, outputURL: URL, errorsURL: URL) {
            (self.command, self.pid, self.spawnError, self.outputURL, self.errorsURL) = (command, pid, spawnError, outputURL, errorsURL)
        }

        deinit {
            if let pid, status == nil { kill(-pid, SIGKILL); var raw: Int32 = 0; _ = waitpid(pid, &raw, 0) }
            try? FileManager.default.removeItem(at: outputURL)
            try? FileManager.default.removeItem(at: errorsURL)
        }

        /// What it has printed so far.
        var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }

        /// Reaps it if it has ended; true once it has.
        var hasEnded: Bool {
            guard let pid else { return true }
            if status != nil { return true }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return false }
            status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : -(raw & 0x7f)
            return true
        }

        /// Sends `signal` to the shell alone (as a parent would), not its group.
        func signal(_ signal: Int32) { if let pid, !hasEnded { kill(pid, signal) } }

        /// Its end, or after `timeout` its whole process group killed.
        func wait(timeout: TimeInterval) -> Outcome {
            guard let pid else {
                return Outcome(status: -1, output: "", errors: "posix_spawn /bin/bash: \(String(cString: strerror(spawnError)))", timedOut: false)
            }
            let deadline = Date().addingTimeInterval(timeout)
            var timedOut = false
            while !hasEnded {
                if Date() >= deadline {
                    timedOut = true
                    kill(-pid, SIGKILL)
                    var raw: Int32 = 0
                    _ = waitpid(pid, &raw, 0)
                    status = -SIGKILL
                    break
                }
                usleep(20_000)
            }
            var errors = (try? String(contentsOf: errorsURL, encoding: .utf8)) ?? ""
            if timedOut { errors += "\n[killed: `\(command)` still running after \(Int(timeout)) s]" }
            return Outcome(status: status ?? -1, output: output, errors: errors, timedOut: timedOut)
        }
    }

    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var pointers = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }
}
