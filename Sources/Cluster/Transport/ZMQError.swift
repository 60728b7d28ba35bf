import CZeroMQ

/// A libzmq call failed. Carries the call, the errno and libzmq's own text so a log line says what broke.
public struct ZMQError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let code: Int32

    public var description: String {
        "\(operation) failed: \(String(cString: zmq_strerror(code))) (errno \(code))"
    }

    /// The last libzmq error for `operation`.
    static func last(_ operation: String) -> ZMQError {
        ZMQError(operation: operation, code: zmq_errno())
    }

    /// Non-blocking call had nothing to do (EAGAIN).
    public var wouldBlock: Bool { code == EAGAIN }
    /// ROUTER_MANDATORY: the peer the message was addressed to is gone.
    public var hostUnreachable: Bool { code == EHOSTUNREACH }
    /// The context was terminated under the socket.
    public var terminated: Bool { code == ETERM }
}
