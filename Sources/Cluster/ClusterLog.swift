import Foundation

/// Line-oriented log to standard error, shared by every thread of a process.
/// One line per event: time, component, message. Quiet mode drops `info`.
public final class ClusterLog: @unchecked Sendable {
    public enum Level: Int, Comparable {
        case debug, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    public static let shared = ClusterLog()
    public var minimumLevel: Level = .info
    private let lock = NSLock()

    public func log(_ level: Level, _ component: String, _ message: @autoclosure () -> String) {
        guard level >= minimumLevel else { return }
        let stamp = String(format: "%.3f", Date().timeIntervalSince1970)
        let line = "\(stamp) \(component) \(level): \(message())\n"
        lock.lock()
        FileHandle.standardError.write(Data(line.utf8))
        lock.unlock()
    }
}
