import Foundation

/// One rank's view of a ring of `worldSize` replicas.
public struct RingConfiguration: Sendable {
    public var rank: Int
    public var worldSize: Int
    /// Where this rank listens for its left neighbour, e.g. `tcp://127.0.0.1:*` or `ipc:///tmp/x`.
    public var bind: String
    /// Names this ring (e.g. trial id and attempt). Frames of another ring are refused, so a
    /// replica of an earlier attempt cannot feed stale gradients into a new one.
    public var session: String
    /// Heartbeats go both ways between neighbours; a neighbour silent for `deadline` is dead.
    public var heartbeat: HeartbeatSettings
    /// How long forming the ring (every neighbour answering) may take.
    public var connectTimeout: TimeInterval
    /// Largest message payload: big sums travel in pieces of this size, so reducing one piece
    /// overlaps sending the next.
    public var pieceBytes: Int
    public var security: RingSecurity?

    public init(rank: Int, worldSize: Int, bind: String, session: String, heartbeat: HeartbeatSettings = .default,
                connectTimeout: TimeInterval = 60, pieceBytes: Int = 512 << 10, security: RingSecurity? = nil) {
        self.rank = rank
        self.worldSize = worldSize
        self.bind = bind
        self.session = session
        self.heartbeat = heartbeat
        self.connectTimeout = connectTimeout
        self.pieceBytes = pieceBytes
        self.security = security
    }

    func validate() throws {
        guard worldSize >= 1, worldSize <= 4096 else { throw AllreduceError.invalidConfiguration("world size \(worldSize) is not in 1...4096") }
        guard rank >= 0, rank < worldSize else { throw AllreduceError.invalidConfiguration("rank \(rank) is not in 0..<\(worldSize)") }
        guard pieceBytes >= 4 else { throw AllreduceError.invalidConfiguration("piece size \(pieceBytes) bytes is below one Float") }
        if let security, !security.peerPublicKeys.isEmpty, security.peerPublicKeys.count != worldSize {
            throw AllreduceError.invalidConfiguration("\(security.peerPublicKeys.count) peer public keys for \(worldSize) ranks")
        }
    }

    var left: Int { (rank + worldSize - 1) % worldSize }
    var right: Int { (rank + 1) % worldSize }
}

/// CurveZMQ for the ring: each rank's key pair, and every rank's public key (index = rank).
/// A rank's listening socket admits only its left neighbour's key. The peers' keys may be
/// left empty here and given to `RingCommunicator.connect` (they come with the addresses).
public struct RingSecurity: Sendable {
    public var keys: CurveKeyPair
    public var peerPublicKeys: [String]

    public init(keys: CurveKeyPair, peerPublicKeys: [String] = []) {
        self.keys = keys
        self.peerPublicKeys = peerPublicKeys
    }
}

