import CProcessControl
import Foundation
import Logging

/// The contract between `rt` and the `rt` processes it starts itself (the coordinator and
/// workers of `rt run`, the replicas of `rt train --replicas`): such a child ends when its
/// parent ends, however the parent ends, SIGKILL included.
///
/// The parent names itself in the child's environment; the child asks the kernel for SIGTERM
/// when its parent dies (PR_SET_PDEATHSIG) and then checks that the parent is still the one
/// named: if it died before the request took effect, the child has been re-parented and ends
/// at once. SIGTERM, not SIGKILL, so the child stops cleanly (hands back its trials, records
/// the stop). Processes started by hand (no variable) are not affected.
public enum SupervisedProcess {
    public static let environmentKey = "RT_SUPERVISOR_PID"

    /// The environment for a child of this process.
    public static func childEnvironment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment[environmentKey] = String(getpid())
        return environment
    }

    /// True when a parent `rt` started this process and speaks for it (prints how to continue).
    public static var isSupervised: Bool { supervisor != nil }

    private static var supervisor: pid_t? {
        ProcessInfo.processInfo.environment[environmentKey].flatMap { pid_t($0) }
    }

    /// Call first thing in a command a parent may start. Ends the process if the parent is gone.
    public static func bindToParent() {
        guard let supervisor else { return }
        if rt_set_parent_death_signal(SIGTERM) != 0 {
            ClusterLog.logger("process").warning("cannot ask to be stopped with parent pid \(supervisor): errno \(errno)")
        }
        if getppid() != supervisor {
            ClusterLog.logger("process").warning("parent pid \(supervisor) ended before this process started; exiting")
            exit(SignalExit.status(SIGTERM))
        }
    }
}
