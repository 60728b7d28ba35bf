/// Every message type of protocol version 1. The raw value is the byte on the wire;
/// the direction is part of the contract: a coordinator drops worker-bound types it receives.
public enum MessageType: UInt8, CaseIterable, Sendable {
    // worker -> coordinator
    case register = 1
    case ready = 2
    case heartbeat = 3
    case progress = 4
    case result = 5
    case artifactChunk = 6
    case failure = 7
    case artifactRequest = 8
    case statusRequest = 9
    /// A data-parallel replica's ring address (and CURVE public key), for its peers.
    case ringEndpoint = 10
    /// A running trial's checkpoint (uploaded as artifact chunks first): a requeue resumes from it.
    case checkpoint = 11
    /// The worker is going away on purpose (a stop signal): its session ends now, not after the
    /// liveness window. Its running trials were handed back (`failure` with `interrupted`) first.
    case leaving = 12

    // coordinator -> worker
    case lease = 32
    case cancel = 33
    case shutdown = 34
    case statusReply = 35
    case artifactMissing = 36
    /// Every replica's ring address, once all of a gang's have arrived.
    case ringPeers = 37
    // heartbeat and artifactChunk travel both ways with the same type byte.

    public var sentByWorker: Bool {
        switch self {
        case .register, .ready, .heartbeat, .progress, .result, .artifactChunk, .failure, .artifactRequest, .statusRequest, .ringEndpoint, .checkpoint, .leaving:
            return true
        case .lease, .cancel, .shutdown, .statusReply, .artifactMissing, .ringPeers:
            return false
        }
    }

    public var sentByCoordinator: Bool {
        switch self {
        case .heartbeat, .artifactChunk, .lease, .cancel, .shutdown, .statusReply, .artifactMissing, .ringPeers: return true
        default: return false
        }
    }
}
