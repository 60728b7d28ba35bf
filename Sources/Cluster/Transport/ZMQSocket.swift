import CZeroMQ
import Foundation

public enum ZMQSocketType {
    case router, dealer, pair, rep, req

    var raw: Int32 {
        switch self {
        case .router: return ZMQ_ROUTER
        case .dealer: return ZMQ_DEALER
        case .pair: return ZMQ_PAIR
        case .rep: return ZMQ_REP
        case .req: return ZMQ_REQ
        }
    }
}

/// One multipart message as received, plus the ZAP user id libzmq attached to it
/// (the name of the allow-listed key that authenticated the peer, when CURVE is on).
public struct ZMQMultipart {
    public var frames: [Data]
    public var userID: String?
}

/// A libzmq socket. Like libzmq sockets, it is not thread-safe: one thread owns it.
public final class ZMQSocket: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    public let context: ZMQContext
    public let type: ZMQSocketType
    private var closed = false

    init(context: ZMQContext, type: ZMQSocketType) throws {
        guard let handle = zmq_socket(context.handle, type.raw) else { throw ZMQError.last("zmq_socket") }
        self.handle = handle
        self.context = context
        self.type = type
    }

    deinit { close() }

    /// Closes the socket now (idempotent). Pending outgoing messages are kept for `linger`.
    public func close() {
        guard !closed else { return }
        closed = true
        zmq_close(handle)
    }

    public func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError.last("zmq_bind(\(endpoint))") }
    }

    public func connect(_ endpoint: String) throws {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError.last("zmq_connect(\(endpoint))") }
    }

    public func disconnect(_ endpoint: String) throws {
        guard zmq_disconnect(handle, endpoint) == 0 else { throw ZMQError.last("zmq_disconnect(\(endpoint))") }
    }

    /// The endpoint actually bound (resolves `tcp://127.0.0.1:*` to the chosen port).
    public var lastEndpoint: String? {
        (try? bytesOption(ZMQ_LAST_ENDPOINT, capacity: 512)).flatMap { data in
            String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    // MARK: Sending

    /// Sends `frames` as one multipart message, copying each frame into libzmq.
    /// Throws `wouldBlock` in non-blocking mode when the high-water mark is reached,
    /// `hostUnreachable` from a ROUTER_MANDATORY socket when the addressed peer is gone.
    public func send(_ frames: [Data], dontWait: Bool = false) throws {
        precondition(!frames.isEmpty, "a message has at least one frame")
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
            if index < frames.count - 1 { flags |= ZMQ_SNDMORE }
            let rc = frame.withUnsafeBytes { raw -> Int32 in
                while true {
                    let rc = zmq_send(handle, raw.baseAddress, raw.count, flags)
                    if rc < 0 && zmq_errno() == EINTR { continue }
                    return rc
                }
            }
            if rc < 0 { throw ZMQError.last("zmq_send") }
        }
    }

    /// Sends `frames` followed by `tail` without copying `tail`: libzmq keeps a reference to the
    /// buffer's owner until its I/O thread has written the bytes, then releases it.
    public func send(_ frames: [Data], zeroCopyTail tail: ZeroCopyBuffer, dontWait: Bool = false) throws {
        // Every leading frame has SNDMORE: the zero-copy tail completes the message.
        let flags: Int32 = ZMQ_SNDMORE | (dontWait ? ZMQ_DONTWAIT : 0)
        for frame in frames {
            let rc = frame.withUnsafeBytes { raw -> Int32 in
                while true {
                    let rc = zmq_send(handle, raw.baseAddress, raw.count, flags)
                    if rc < 0 && zmq_errno() == EINTR { continue }
                    return rc
                }
            }
            if rc < 0 { throw ZMQError.last("zmq_send") }
        }
        var message = zmq_msg_t()
        let owner = Unmanaged.passRetained(tail.owner as AnyObject).toOpaque()
        let free: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void = { _, hint in
            if let hint { Unmanaged<AnyObject>.fromOpaque(hint).release() }
        }
        guard zmq_msg_init_data(&message, UnsafeMutableRawPointer(mutating: tail.pointer), tail.count, free, owner) == 0 else {
            Unmanaged<AnyObject>.fromOpaque(owner).release()
            throw ZMQError.last("zmq_msg_init_data")
        }
        while true {
            if zmq_msg_send(&message, handle, dontWait ? ZMQ_DONTWAIT : 0) >= 0 { return }
            let error = ZMQError.last("zmq_msg_send")
            if error.code == EINTR { continue }
            zmq_msg_close(&message) // runs the free function: the owner is released
            throw error
        }
    }

    // MARK: Receiving

    /// Receives one whole multipart message. Returns nil when `dontWait` and nothing is queued.
    public func receive(dontWait: Bool = false) throws -> ZMQMultipart? {
        var frames: [Data] = []
        var userID: String?
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        while true {
            let rc = zmq_msg_recv(&message, handle, dontWait && frames.isEmpty ? ZMQ_DONTWAIT : 0)
            if rc < 0 {
                let error = ZMQError.last("zmq_msg_recv")
                if error.code == EINTR { continue }
                if error.wouldBlock && frames.isEmpty { return nil }
                throw error
            }
            let size = zmq_msg_size(&message)
            frames.append(size == 0 ? Data() : Data(bytes: zmq_msg_data(&message), count: size))
            if userID == nil, let raw = zmq_msg_gets(&message, "User-Id") {
                userID = String(cString: raw)
            }
            if zmq_msg_more(&message) == 0 { break }
        }
        return ZMQMultipart(frames: frames, userID: userID)
    }

    // MARK: Options

    public func setOption(_ option: Int32, _ value: Int32) throws {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) == 0 else {
            throw ZMQError.last("zmq_setsockopt(\(option))")
        }
    }

    public func setOption(_ option: Int32, _ value: Data) throws {
        let rc = value.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw ZMQError.last("zmq_setsockopt(\(option))") }
    }

    public func setOption(_ option: Int32, _ value: String) throws {
        try setOption(option, Data(value.utf8))
    }

    public func intOption(_ option: Int32) throws -> Int32 {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        guard zmq_getsockopt(handle, option, &value, &size) == 0 else { throw ZMQError.last("zmq_getsockopt(\(option))") }
        return value
    }

    func bytesOption(_ option: Int32, capacity: Int) throws -> Data {
        var buffer = [UInt8](repeating: 0, count: capacity)
        var size = capacity
        guard zmq_getsockopt(handle, option, &buffer, &size) == 0 else { throw ZMQError.last("zmq_getsockopt(\(option))") }
        return Data(buffer.prefix(size))
    }

    /// Milliseconds a closed socket keeps trying to deliver what is queued (0: drop at once).
    public func setLinger(milliseconds: Int32) throws { try setOption(ZMQ_LINGER, milliseconds) }
    public func setSendHighWaterMark(_ messages: Int32) throws { try setOption(ZMQ_SNDHWM, messages) }
    public func setReceiveHighWaterMark(_ messages: Int32) throws { try setOption(ZMQ_RCVHWM, messages) }
    /// ROUTER: fail with EHOSTUNREACH instead of silently dropping a message to an unknown peer.
    public func setRouterMandatory(_ on: Bool) throws { try setOption(ZMQ_ROUTER_MANDATORY, on ? 1 : 0) }
    public func setReconnectInterval(milliseconds: Int32, max: Int32) throws {
        try setOption(ZMQ_RECONNECT_IVL, milliseconds)
        try setOption(ZMQ_RECONNECT_IVL_MAX, max)
    }
    /// Drop queued messages for peers whose connection is not complete, so a dead
    /// coordinator does not receive a burst of stale messages when it comes back.
    public func setImmediate(_ on: Bool) throws { try setOption(ZMQ_IMMEDIATE, on ? 1 : 0) }
    public func setRoutingID(_ id: Data) throws { try setOption(ZMQ_ROUTING_ID, id) }
    /// Largest inbound message accepted; bigger ones close the connection (guards memory).
    public func setMaxMessageSize(_ bytes: Int64) throws {
        var value = bytes
        guard zmq_setsockopt(handle, ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size) == 0 else {
            throw ZMQError.last("zmq_setsockopt(ZMQ_MAXMSGSIZE)")
        }
    }
}

/// Bytes that libzmq may send without copying. `owner` keeps `pointer` valid and is retained by
/// libzmq until the message has been written (e.g. a memory-mapped artifact file).
public struct ZeroCopyBuffer {
    public let pointer: UnsafeRawPointer
    public let count: Int
    public let owner: AnyObject

    public init(pointer: UnsafeRawPointer, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
    }
}
