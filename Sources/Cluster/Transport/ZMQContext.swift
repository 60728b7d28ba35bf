import CZeroMQ

/// A libzmq context: owns the I/O threads every socket of one process shares.
/// Sockets keep their context alive; the context is terminated when the last reference goes.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public init(ioThreads: Int32 = 1) throws {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        self.handle = handle
        zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads)
    }

    private var terminated = false

    deinit { terminate() }

    /// Waits until every socket of this context is closed and has delivered what it still
    /// queues (within its linger), then frees the context. Called by deinit; call it earlier to
    /// be sure messages are on the wire before going on (e.g. before the process exits).
    /// Sockets retain the context, so in deinit they are all gone already.
    public func terminate() {
        guard !terminated else { return }
        terminated = true
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    public func socket(_ type: ZMQSocketType) throws -> ZMQSocket {
        try ZMQSocket(context: self, type: type)
    }

    /// The libzmq version linked at run time, e.g. "4.3.4".
    public static var libraryVersion: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }

    /// Whether this libzmq was built with CurveZMQ (libsodium).
    public static var hasCurve: Bool { zmq_has("curve") != 0 }
}
