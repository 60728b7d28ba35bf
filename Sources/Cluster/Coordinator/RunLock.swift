import Foundation

/// Who serves a run: recorded in the run's lock file and in its store.
public struct RunOwner: Codable, Equatable, Sendable {
    public var pid: Int32
    public var host: String
    public var startedAt: Double
    /// When the owner last said it was alive (the store's copy; the lock file has the start only).
    public var heartbeatAt: Double?

    public init(pid: Int32, host: String, startedAt: Double, heartbeatAt: Double? = nil) {
        (self.pid, self.host, self.startedAt, self.heartbeatAt) = (pid, host, startedAt, heartbeatAt)
    }

    public static var current: RunOwner {
        RunOwner(pid: getpid(), host: ProcessInfo.processInfo.hostName, startedAt: Date().timeIntervalSince1970)
    }

    /// "coordinator pid 10452 on host vm since 18:53:16"
    public var description: String {
        let formatter = DateFormatter()
        formatter.dateFormat = Calendar.current.isDateInToday(Date(timeIntervalSince1970: startedAt)) ? "HH:mm:ss" : "yyyy-MM-dd HH:mm:ss"
        return "coordinator pid \(pid) on host \(host) since \(formatter.string(from: Date(timeIntervalSince1970: startedAt)))"
    }
}

/// A coordinator's exclusive hold on its run directory, for its whole life: an advisory lock
/// (flock) on `<run>/coordinator.lock`, which the kernel releases when the holder dies however
/// it dies, so a stale lock never needs cleaning up by hand. The file names the holder.
public final class RunLock {
    public static let fileName = "coordinator.lock"
    public let owner: RunOwner
    private let descriptor: Int32

    private init(descriptor: Int32, owner: RunOwner) {
        self.descriptor = descriptor
        self.owner = owner
    }

    deinit { close(descriptor) } // releases the lock

    static func url(_ runDirectory: URL) -> URL { runDirectory.appendingPathComponent(fileName) }

    /// Takes the run, or throws `CoordinatorError.runHeld` naming the live holder.
    public static func acquire(_ runDirectory: URL) throws -> RunLock {
        let path = url(runDirectory).path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CoordinatorError.lockUnavailable(path: path, reason: String(cString: strerror(errno)))
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = readOwner(descriptor)
            close(descriptor)
            throw CoordinatorError.runHeld(runDirectory: runDirectory.path, holder: holder)
        }
        let owner = RunOwner.current
        let text = (try? ClusterJSON.encode(owner)) ?? Data()
        _ = ftruncate(descriptor, 0)
        _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        return RunLock(descriptor: descriptor, owner: owner)
    }

    /// `CoordinatorError.runHeld` naming the live holder of a run, nil when nobody serves it.
    /// Takes nothing: for commands that must refuse before they start a coordinator.
    public static func refusal(for runDirectory: URL) -> CoordinatorError? {
        let descriptor = open(url(runDirectory).path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        // A shared lock is granted only while no coordinator holds its exclusive one.
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return nil
        }
        return .runHeld(runDirectory: runDirectory.path, holder: readOwner(descriptor))
    }

    /// The holder named in the file; nil while a starting holder has not written it yet.
    private static func readOwner(_ descriptor: Int32) -> RunOwner? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return try? ClusterJSON.decode(RunOwner.self, from: Data(buffer[0..<count]))
    }
}
