import CZeroMQ

/// Waits on several sockets, and optionally plain file descriptors, at once (zmq_poll).
public struct ZMQPoller {
    private var items: [zmq_pollitem_t] = []

    public init(_ sockets: [ZMQSocket], fileDescriptors: [Int32] = []) {
        items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0) }
            + fileDescriptors.map { zmq_pollitem_t(socket: nil, fd: $0, events: Int16(ZMQ_POLLIN), revents: 0) }
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) for input. Returns, per item (sockets
    /// first, then descriptors), whether it is readable. An interrupted wait returns all false.
    public mutating func poll(timeoutMilliseconds: Int) throws -> [Bool] {
        let rc = zmq_poll(&items, Int32(items.count), timeoutMilliseconds)
        if rc < 0 {
            let error = ZMQError.last("zmq_poll")
            if error.code == EINTR { return Array(repeating: false, count: items.count) }
            throw error
        }
        return items.map { $0.revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
