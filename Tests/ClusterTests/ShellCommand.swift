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

    func run() -> Outcome {
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("rt-shell-\(UUID().uuidString.prefix(8)).out")
        let errorsURL = outputURL.appendingPathExtension("err")
        defer { try? FileManager.default.removeItem(at: outputURL); try? FileManager.default.removeItem(at: errorsURL) }
        // The shell first closes every descriptor it inherited beyond 0-2 (the test process's
        // sockets and pipes; glibc's closefrom action is not visible to Swift).
        let closeInherited = #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; (( fd > 2 )) && eval "exec $fd>&-"; done 2>/dev/null; "#
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
        let spawned = withCStrings(arguments) { argv in
            withCStrings(variables) { envp in posix_spawn(&pid, "/bin/bash", &actions, &attributes, argv, envp) }
        }
        guard spawned == 0 else { return Outcome(status: -1, output: "", errors: "posix_spawn /bin/bash: \(String(cString: strerror(spawned)))", timedOut: false) }

        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var timedOut = false
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() >= deadline {
                timedOut = true
                kill(-pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                break
            }
            usleep(20_000)
        }
        let output = (try? String(contentsOf: outputURL, encoding: .utf8)) ?? ""
        var errors = (try? String(contentsOf: errorsURL, encoding: .utf8)) ?? ""
        if timedOut { errors += "\n[killed: `\(command)` still running after \(Int(timeout)) s]" }
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -(status & 0x7f)
        return Outcome(status: timedOut ? -Int32(SIGKILL) : exitStatus, output: output, errors: errors, timedOut: timedOut)
    }

    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var pointers = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }
}
