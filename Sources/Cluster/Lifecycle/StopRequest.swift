import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A request to stop, counted: the first asks for a clean stop (finish or hand back the running
/// work, then exit), a second for an immediate one. Loops poll it; nothing else is done in the
/// signal handler, which only touches these atomics (async-signal-safe).
public final class StopRequest: Sendable {
    private let requests = Atomic<Int>(0)
    private let firstSignal = Atomic<Int32>(0)
    /// CLOCK_MONOTONIC nanoseconds of the first request.
    private let firstAt = Atomic<Int64>(0)
    /// Requests this soon after the first are the same request delivered twice (a scheduler
    /// signals every process of a job, and its batch script passes the signal on as well).
    static let duplicateWindow: Int64 = 500_000_000

    public init() {}

    /// The one SIGINT and SIGTERM feed once `installSignalHandlers()` has run.
    public static let signals = StopRequest()

    /// Routes SIGINT and SIGTERM of this process to `StopRequest.signals` (idempotent).
    public static func installSignalHandlers() {
        _ = signals.count // initialised before any handler can run
        // glibc's signal() installs with SA_RESTART: a blocking read or poll resumes after it.
        for number in [SIGINT, SIGTERM] { _ = Glibc.signal(number) { number in StopRequest.signals.record(number) } }
    }

    /// Records a request; `signal` is the signal that asked (SIGINT, SIGTERM), or 0 for a caller.
    public func record(_ signal: Int32) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now) // async-signal-safe
        let nanoseconds = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
        if firstAt.compareExchange(expected: 0, desired: nanoseconds, ordering: .relaxed).exchanged {
            firstSignal.store(signal == 0 ? SIGTERM : signal, ordering: .relaxed)
        } else if nanoseconds - firstAt.load(ordering: .relaxed) < Self.duplicateWindow {
            return
        }
        requests.add(1, ordering: .relaxed)
    }

    /// How many stops were asked for: 0 none, 1 a clean stop, 2 or more stop at once.
    public var count: Int { requests.load(ordering: .relaxed) }

    /// The signal of the first request (SIGTERM for a request that named none), nil before any.
    public var signal: Int32? {
        guard count > 0 else { return nil }
        let number = firstSignal.load(ordering: .relaxed)
        return number == 0 ? SIGTERM : number
    }
}

/// How a process that stopped on a signal exits, as a shell reports a death by that signal.
public enum SignalExit {
    public static func status(_ signal: Int32) -> Int32 { 128 + signal }

    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGKILL: return "SIGKILL"
        case SIGHUP: return "SIGHUP"
        case SIGQUIT: return "SIGQUIT"
        case SIGABRT: return "SIGABRT"
        case SIGSEGV: return "SIGSEGV"
        case SIGBUS: return "SIGBUS"
        case SIGILL: return "SIGILL"
        case SIGTRAP: return "SIGTRAP"
        case SIGFPE: return "SIGFPE"
        default: return "signal \(signal)"
        }
    }
}
