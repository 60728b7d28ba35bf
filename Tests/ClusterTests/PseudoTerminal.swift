import Foundation
#if canImport(Glibc)
import Glibc
#endif

// glibc's pseudo-terminal calls (stdlib.h), which the Glibc module does not import (they sit
// behind _XOPEN_SOURCE); plain C functions of ints and pointers, declared here by their C names.
@_silgen_name("posix_openpt") private func posixOpenpt(_ flags: Int32) -> Int32
@_silgen_name("grantpt") private func grantPseudoTerminal(_ descriptor: Int32) -> Int32
@_silgen_name("unlockpt") private func unlockPseudoTerminal(_ descriptor: Int32) -> Int32
@_silgen_name("ptsname") private func pseudoTerminalName(_ descriptor: Int32) -> UnsafeMutablePointer<CChar>?

/// A pseudo-terminal pair for a child process: the child opens `path` (the secondary side) as
/// its stdout or stderr and sees a terminal; the test reads what it wrote from the primary side.
/// The test process never opens the secondary side, so reading ends (EIO) once the child exits.
final class PseudoTerminal {
    let primary: Int32
    let path: String
    private var collected = Data()
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)

    init() throws {
        primary = posixOpenpt(O_RDWR | O_NOCTTY)
        guard primary >= 0, grantPseudoTerminal(primary) == 0, unlockPseudoTerminal(primary) == 0, let name = pseudoTerminalName(primary) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        path = String(cString: name)
        // Drained on a thread of its own: a child blocked on a full terminal buffer never exits.
        Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(primary, &buffer, buffer.count)
                if count <= 0 { break }
                lock.lock(); collected.append(contentsOf: buffer[0..<count]); lock.unlock()
            }
            done.signal()
        }.start()
    }

    /// Everything the child wrote, once it has closed its side (or after `timeout` seconds).
    func text(timeout: TimeInterval) -> String {
        _ = done.wait(timeout: .now() + timeout)
        lock.lock(); defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self)
    }

    deinit { close(primary) }
}

/// `rt` with stdin from /dev/null and stdout and stderr each on a terminal or in a file, reaped
/// with `waitpid` (bounded by a deadline, then killed).
enum TerminalRun {
    enum Sink { case terminal(PseudoTerminal), file(URL) }

    static func run(_ arguments: [String], stdout: Sink, stderr: Sink, environment: [String: String], timeout: TimeInterval) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (descriptor, sink) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch sink {
            case let .terminal(pty): posix_spawn_file_actions_addopen(&actions, descriptor, pty.path, O_RDWR | O_NOCTTY, 0)
            case let .file(url): posix_spawn_file_actions_addopen(&actions, descriptor, url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            }
        }
        let binary = try ProcessHarness.rtBinary().path
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, binary, &actions, nil, argv, envp)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline { kill(pid, SIGKILL); waitpid(pid, &status, 0); return -1 }
            usleep(20_000)
        }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
