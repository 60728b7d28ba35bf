import Foundation

public struct WorkerConfiguration {
    /// e.g. tcp://coordinator-host:5555 or ipc:///tmp/rt.ipc
    public var connect: String
    public var security: TransportSecurity
    public var name: String
    /// Trials run at once (each on its own thread).
    public var threads: Int
    /// Trials leased beyond `threads`, queued here so the next one starts the moment a thread
    /// frees up instead of after a round trip. 0 suits long trials (a queued trial cannot move
    /// to an idle worker); 1 hides the dispatch latency of short ones.
    public var prefetch: Int
    public var heartbeat: HeartbeatSettings
    /// Longest wait between reconnection attempts (the wait doubles from one heartbeat interval).
    public var maxReconnectBackoff: TimeInterval
    public var chunkSize: Int
    /// Verified parent artifacts are kept here by hash. Content-addressed and written
    /// atomically, so all workers of a user on a host share one directory by default.
    public var cacheDirectory: URL
    /// Give up a parent-artifact download after this long (the trial fails and is requeued).
    public var downloadTimeout: TimeInterval
    /// Where data-parallel replicas on this worker bind their ring sockets, and the address their
    /// peers reach them at: loopback for one machine, this host's address across hosts.
    public var ringHost = "127.0.0.1"
    /// Asks for a clean stop (first request) or an immediate one (second): SIGINT and SIGTERM for `rt worker`.
    public var stop = StopRequest()
    /// On a clean stop, how long running trials get to store a snapshot and end before the
    /// worker hands them back unfinished and leaves.
    public var stopGrace: TimeInterval = 3

    public init(connect: String, security: TransportSecurity = .none, name: String? = nil, threads: Int = 1, prefetch: Int = 0,
                heartbeat: HeartbeatSettings = .default, maxReconnectBackoff: TimeInterval = 8, chunkSize: Int = 1 << 20,
                cacheDirectory: URL? = nil, downloadTimeout: TimeInterval = 120) {
        self.connect = connect
        self.security = security
        self.name = name ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        self.threads = max(1, threads)
        self.prefetch = max(0, prefetch)
        self.heartbeat = heartbeat
        self.maxReconnectBackoff = maxReconnectBackoff
        self.chunkSize = chunkSize
        self.cacheDirectory = cacheDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("rt-artifact-cache-\(getuid())")
        self.downloadTimeout = downloadTimeout
    }
}
