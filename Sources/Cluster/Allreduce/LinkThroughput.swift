import CZeroMQ
import Foundation

/// Raw ZeroMQ point-to-point throughput, the yardstick of the all-reduce benchmark: a DEALER
/// streams `bytes` in messages of `pieceBytes` to a ROUTER over `transport` (the sockets,
/// piece size, copying send and in-place receive the ring uses), each side on its own thread
/// with its own context. With `streams` > 1 that many such links run at once, joined in a ring
/// (each sender also a receiver), which is what a ring all-reduce of that many ranks asks of
/// the machine. Returns the seconds from the first send to the last byte received on every link.
public enum LinkThroughput {
    public static func measure(bytes: Int, pieceBytes: Int = 512 << 10, streams: Int = 1) throws -> TimeInterval {
        let contexts = try (0..<streams).map { _ in try ZMQContext() }
        let receivers = try contexts.map { context -> ZMQSocket in
            let socket = try context.socket(.router)
            try socket.setLinger(milliseconds: 0)
            try socket.setReceiveHighWaterMark(0)
            try socket.setOption(ZMQ_RCVTIMEO, 30_000) // a lost stream fails the measurement, never hangs it
            try socket.bind("tcp://127.0.0.1:*")
            return socket
        }
        let senders = try (0..<streams).map { index -> ZMQSocket in
            let socket = try contexts[(index + 1) % streams].socket(.dealer)
            try socket.setLinger(milliseconds: 0)
            try socket.setSendHighWaterMark(0)
            try socket.connect(receivers[index].lastEndpoint!)
            return socket
        }
        // One message each way first, so connection set-up is not timed.
        for (sender, receiver) in zip(senders, receivers) {
            try sender.send([Data([1])])
            _ = try receiver.receive()
        }
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: pieceBytes, alignment: 64)
        defer { payload.deallocate() }
        payload.initializeMemory(as: UInt8.self, repeating: 7)
        let source = Int(bitPattern: payload.baseAddress) // every sender reads the same bytes
        let pieces = (bytes + pieceBytes - 1) / pieceBytes
        let start = Date()
        let group = DispatchGroup()
        let failure = LockedError()
        for index in 0..<streams {
            let (sender, receiver) = (senders[index], receivers[index])
            group.enter()
            Thread {
                defer { group.leave() }
                for piece in 0..<pieces {
                    let size = min(pieceBytes, bytes - piece * pieceBytes)
                    while zmq_send(sender.handle, UnsafeRawPointer(bitPattern: source), size, 0) < 0 {
                        if zmq_errno() == EINTR { continue }
                        failure.set(ZMQError.last("zmq_send of piece \(piece)"))
                        return
                    }
                }
            }.start()
            group.enter()
            Thread {
                defer { group.leave() }
                var message = zmq_msg_t()
                zmq_msg_init(&message)
                defer { zmq_msg_close(&message) }
                var received = 0
                while received < bytes {
                    // Routing id, then the piece; the piece is read in place, as the ring does.
                    if zmq_msg_recv(&message, receiver.handle, 0) < 0 {
                        if zmq_errno() == EINTR { continue }
                        failure.set(JobError("stream \(index): receive failed after \(received) of \(bytes) bytes: \(ZMQError.last("zmq_msg_recv"))"))
                        return
                    }
                    if zmq_msg_more(&message) == 0 { received += zmq_msg_size(&message) }
                }
            }.start()
        }
        group.wait()
        let seconds = Date().timeIntervalSince(start)
        // A socket closed early (linger 0) drops what it still queues: keep them all to the end.
        withExtendedLifetime((senders, receivers, contexts)) {}
        if let error = failure.error { throw error }
        return seconds
    }
}

private final class LockedError: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func set(_ error: Error) { lock.lock(); if self.error == nil { self.error = error }; lock.unlock() }
}
