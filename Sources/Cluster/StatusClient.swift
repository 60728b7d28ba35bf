import Foundation

/// Asks a live coordinator for its `ClusterStatus` (used by `rt status` and `rt run`).
public final class StatusClient {
    private let context: ZMQContext
    private let socket: ZMQSocket
    private var requestID: UInt64 = 0

    public init(connect endpoint: String, security: TransportSecurity = .none) throws {
        context = try ZMQContext()
        socket = try context.socket(.dealer)
        try socket.setLinger(milliseconds: 0)
        try security.apply(to: socket)
        try socket.connect(endpoint)
    }

    /// nil when the coordinator does not answer within `timeout`.
    public func status(timeout: TimeInterval) throws -> ClusterStatus? {
        requestID += 1
        try socket.send(WireEnvelope(type: .statusRequest, requestID: requestID).frames(), dontWait: true)
        let deadline = Date().addingTimeInterval(timeout)
        var poller = ZMQPoller([socket])
        while Date() < deadline {
            let readable = try poller.poll(timeoutMilliseconds: max(1, Int(deadline.timeIntervalSinceNow * 1000)))
            guard readable[0], let message = try socket.receive(dontWait: true) else { continue }
            guard let envelope = try? WireEnvelope.decode(message.frames[...]),
                  envelope.type == .statusReply, envelope.requestID == requestID else { continue }
            return try envelope.body(ClusterStatus.self)
        }
        return nil
    }
}
