import Foundation

/// Paranoid-Pirate liveness: both sides send a heartbeat every `interval`; a peer that has
/// sent nothing for `liveness` intervals is dead. Tests shorten the interval to ~100 ms.
public struct HeartbeatSettings: Equatable, Sendable {
    public var interval: TimeInterval
    public var liveness: Int

    public static let `default` = HeartbeatSettings(interval: 1.0, liveness: 3)

    public init(interval: TimeInterval, liveness: Int) {
        self.interval = interval
        self.liveness = liveness
    }

    /// Silence longer than this means the peer is dead.
    public var deadline: TimeInterval { interval * Double(liveness) }
}

/// Where a coordinator may listen without encryption.
public enum EndpointPolicy {
    /// ipc://, inproc:// and loopback TCP never leave the machine; anything else carries
    /// leases and results across a network and needs CurveZMQ (or an explicit --insecure).
    /// Decided by the addresses the host resolves to (`LoopbackEndpoint`), never by its text.
    public static func isLocal(_ endpoint: String) -> Bool { LoopbackEndpoint.isLocal(endpoint) }
}
