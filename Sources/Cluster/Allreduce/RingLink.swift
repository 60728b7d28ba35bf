import CZeroMQ
import Foundation
import Logging

/// One rank's two connections in the ring, used only by its communication thread.
///
/// `inbound` is a ROUTER this rank binds: its left neighbour connects to it and sends the data
/// that flows around the ring; heartbeats go back to the left over it. `outbound` is a DEALER
/// connected to the right neighbour's ROUTER, with routing id `<session tag>/<rank>` so the
/// right neighbour can tell its own left neighbour from a stray connection. Heartbeats go both
/// ways on both connections, so each rank watches both neighbours: one that is silent for the
/// liveness window fails the operation with an error naming it, never a hang.
final class RingLink {
    let configuration: RingConfiguration
    private let context: ZMQContext
    private let inbound: ZMQSocket
    private var outbound: ZMQSocket?
    private var zap: ZAPHandler?
    let boundEndpoint: String
    private let tag: UInt32
    private let log = ClusterLog.logger("ring")

    private var lastHeardLeft = Date(), lastHeardRight = Date()
    private var nextHeartbeat = Date()
    private var leftGone = false, rightGone = false
    /// The first data message of the next operation, read while idle (the left neighbour was
    /// ahead): kept, in order, for `receiveData`. At most one, so at most one piece is copied.
    private var stashed: (header: RingHeader, payload: [UInt8])?
    /// Data pieces libzmq still holds: they are sent from the caller's buffer without a copy,
    /// so an operation is not done (and the buffer not free) until this is back to zero.
    private let inFlight = InFlightCounter()
    /// Asked while waiting: true when this process aborts, so a blocked operation ends at once.
    var stopRequested: (() -> Bool)?
    /// Parts of the message being read (libzmq messages, so payloads are used in place).
    private let parts = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: RingLink.maxParts)
    private static let maxParts = 4

    var rank: Int { configuration.rank }
    var worldSize: Int { configuration.worldSize }
    var left: Int { configuration.left }
    var right: Int { configuration.right }

    /// Binds the inbound socket now, so the caller can tell the other ranks where it listens.
    init(configuration: RingConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
        tag = RingHeader.sessionTag(configuration.session)
        context = try ZMQContext()
        if let security = configuration.security {
            // Only the left neighbour is ever admitted: from the start when its key is known now,
            // else once `form` names it. Until then its connection is held, not denied: libzmq
            // does not retry a denied connection, so the left neighbour would time out.
            var admitted: [Data: String] = [:]
            if security.peerPublicKeys.count == configuration.worldSize, let key = Z85.decode(security.peerPublicKeys[configuration.left]) {
                admitted[key] = "rank-\(configuration.left)"
            }
            let handler = try ZAPHandler(context: context, allowList: CurveAllowList(names: admitted),
                                         holdingUnknownKeysFor: admitted.isEmpty ? configuration.connectTimeout : nil)
            handler.start()
            zap = handler
        }
        inbound = try context.socket(.router)
        try inbound.setRouterMandatory(true)
        try inbound.setLinger(milliseconds: 1000)
        // Unbounded queues: an operation never has more than its own buffer in flight, and a
        // bounded queue could deadlock a ring in which every rank sends before it receives.
        try inbound.setSendHighWaterMark(0)
        try inbound.setReceiveHighWaterMark(0)
        if let security = configuration.security { try TransportSecurity.curveServer(security.keys).apply(to: inbound) }
        try inbound.bind(configuration.bind)
        boundEndpoint = inbound.lastEndpoint ?? configuration.bind
    }

    deinit {
        close()
        parts.deallocate()
    }

    /// Closes both connections and waits until what they still queue (the last data, the
    /// goodbye) is delivered, at most the linger time: a replica that exits right after its
    /// last operation must not take its neighbours' last pieces with it.
    func close() {
        zap?.stop()
        outbound?.close()
        inbound.close()
        context.terminate()
    }

    private func routingID(of rank: Int) -> Data { Data("\(String(tag, radix: 16))/\(rank)".utf8) }

    private func header(_ kind: RingMessageKind, step: UInt64 = 0, bucket: UInt32 = 0, chunk: UInt32 = 0, payloadBytes: Int = 0) -> RingHeader {
        RingHeader(kind: kind, sender: rank, worldSize: worldSize, step: step, bucket: bucket, chunk: chunk,
                   payloadBytes: payloadBytes, session: tag)
    }

    // MARK: Forming the ring

    /// Connects to the right neighbour and waits until both neighbours have answered.
    /// `peerPublicKeys` (by rank) replace the configuration's, for CurveZMQ.
    func form(endpoints: [String], peerPublicKeys: [String]?, deadline: Date) throws {
        guard endpoints.count == worldSize else {
            throw AllreduceError.invalidConfiguration("\(endpoints.count) endpoints for \(worldSize) ranks")
        }
        var keys: [String] = []
        if let security = configuration.security {
            keys = peerPublicKeys ?? security.peerPublicKeys
            guard keys.count == worldSize else {
                throw AllreduceError.invalidConfiguration("CurveZMQ needs every rank's public key, got \(keys.count) for \(worldSize) ranks")
            }
            // Only the left neighbour may connect to our listening socket.
            guard let binary = Z85.decode(keys[left]), binary.count == 32 else {
                throw AllreduceError.invalidConfiguration("public key of rank \(left) is not a Z85 CurveZMQ key")
            }
            zap?.update(allowList: CurveAllowList(names: [binary: "rank-\(left)"]))
        }
        let socket = try context.socket(.dealer)
        try socket.setLinger(milliseconds: 1000)
        try socket.setSendHighWaterMark(0)
        try socket.setReceiveHighWaterMark(0)
        try socket.setRoutingID(routingID(of: rank))
        try socket.setReconnectInterval(milliseconds: 50, max: 1000)
        if let security = configuration.security {
            try TransportSecurity.curveClient(security.keys, serverPublicKey: keys[right]).apply(to: socket)
        }
        try socket.connect(endpoints[right])
        outbound = socket
        // The DEALER queues the hello until the connection is up, so one is enough.
        try send(header(.hello), on: socket, to: nil)
        var heardHello = false, heardWelcome = false
        while !(heardHello && heardWelcome) {
            sendHeartbeatsIfDue()
            let now = Date()
            if now >= deadline {
                var missing: [Int] = []
                if !heardHello { missing.append(left) }
                if !heardWelcome && !missing.contains(right) { missing.append(right) }
                throw AllreduceError.connectTimeout(missing: missing, seconds: configuration.connectTimeout)
            }
            try waitReadable(timeout: min(deadline.timeIntervalSince(now), 0.05))
            while try receiveFromRight({ h, _ in
                if h.kind == .welcome { heardWelcome = true }
            }) {}
            // Read the left only up to its hello: a left neighbour that formed first may already
            // be sending the first operation's data, which must stay queued for it.
            while !heardHello, try receiveFromLeft({ h, _ in
                guard h.kind == .hello else { throw AllreduceError.badFrame(rank: self.left, reason: "\(h.kind) before hello") }
                heardHello = true
            }) {}
        }
        lastHeardLeft = Date()
        lastHeardRight = Date()
        log.debug("rank \(rank)/\(worldSize): ring formed (left \(left), right \(right))")
    }

    // MARK: Liveness

    private func sendHeartbeatsIfDue() {
        let now = Date()
        guard now >= nextHeartbeat else { return }
        nextHeartbeat = now.addingTimeInterval(configuration.heartbeat.interval)
        if let outbound, !rightGone { try? send(header(.heartbeat), on: outbound, to: nil) }
        // EHOSTUNREACH: the left's connection is gone (or not up yet); its silence will tell.
        if !leftGone { try? send(header(.heartbeat), on: inbound, to: routingID(of: left)) }
    }

    /// Sends heartbeats when due and fails if a neighbour has been silent too long.
    func keepAlive() throws {
        if stopRequested?() == true { throw AllreduceError.closed(reason: "aborted by this process") }
        sendHeartbeatsIfDue()
        let now = Date()
        let deadline = configuration.heartbeat.deadline
        if !leftGone, now.timeIntervalSince(lastHeardLeft) > deadline {
            throw AllreduceError.peerSilent(rank: left, seconds: now.timeIntervalSince(lastHeardLeft))
        }
        if !rightGone, now.timeIntervalSince(lastHeardRight) > deadline {
            throw AllreduceError.peerSilent(rank: right, seconds: now.timeIntervalSince(lastHeardRight))
        }
    }

    /// Between operations: answers heartbeats until `wake` is readable (an operation or a stop
    /// was queued). If the left neighbour is already sending the next operation, its first
    /// message is stashed and the rest stays queued in the socket (and counts as a sign of life).
    func idle(wake: Int32) throws {
        while true {
            if stashed != nil { lastHeardLeft = Date() }
            try keepAlive()
            // Without a stash the inbound socket is watched too; with one, its queue must wait.
            var items = [zmq_pollitem_t(socket: nil, fd: wake, events: Int16(ZMQ_POLLIN), revents: 0),
                         zmq_pollitem_t(socket: outbound?.handle, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0),
                         zmq_pollitem_t(socket: inbound.handle, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0)]
            let wait = max(0, min(nextHeartbeat.timeIntervalSinceNow, configuration.heartbeat.interval / 2))
            let rc = zmq_poll(&items, stashed == nil ? 3 : 2, Int(wait * 1000) + 1)
            if rc < 0 && zmq_errno() != EINTR { throw ZMQError.last("zmq_poll") }
            if items[1].revents != 0 { while try receiveFromRight({ _, _ in }) {} }
            if stashed == nil && items[2].revents != 0 {
                while stashed == nil, try receiveFromLeft({ h, payload in self.stashed = (h, payload.map { Array($0) } ?? []) }) {}
            }
            if items[0].revents != 0 { return }
        }
    }

    private func waitReadable(timeout: TimeInterval) throws {
        var items = [zmq_pollitem_t(socket: inbound.handle, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0),
                     zmq_pollitem_t(socket: outbound?.handle, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0)]
        let rc = zmq_poll(&items, 2, max(0, Int(timeout * 1000)))
        if rc < 0 && zmq_errno() != EINTR { throw ZMQError.last("zmq_poll") }
    }

    // MARK: Data

    /// Sends one data (or gather) message to the right neighbour. With `zeroCopy` libzmq reads
    /// the payload from the caller's memory when it writes it out: the caller must leave it
    /// alone until `waitForSends()`. Otherwise the payload is copied.
    func sendData(_ kind: RingMessageKind, step: UInt64, bucket: UInt32, chunk: UInt32, payload: UnsafeRawBufferPointer,
                  zeroCopy: Bool = false) throws {
        guard let outbound else { throw AllreduceError.closed(reason: "ring not formed") }
        if rightGone { throw AllreduceError.peerLeft(rank: right) }
        let h = header(kind, step: step, bucket: bucket, chunk: chunk, payloadBytes: payload.count)
        guard zeroCopy, payload.count > 0 else { return try send(h, on: outbound, to: nil, payload: payload) }
        try send(h, on: outbound, to: nil, more: true)
        var message = zmq_msg_t()
        let release: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void = { _, hint in
            Unmanaged<InFlightCounter>.fromOpaque(hint!).takeRetainedValue().add(-1)
        }
        inFlight.add(1)
        let hint = Unmanaged.passRetained(inFlight).toOpaque()
        guard zmq_msg_init_data(&message, UnsafeMutableRawPointer(mutating: payload.baseAddress), payload.count, release, hint) == 0 else {
            Unmanaged<InFlightCounter>.fromOpaque(hint).release()
            inFlight.add(-1)
            throw ZMQError.last("zmq_msg_init_data")
        }
        while zmq_msg_send(&message, outbound.handle, ZMQ_DONTWAIT) < 0 {
            if zmq_errno() == EINTR { continue }
            let error = ZMQError.last("zmq_msg_send")
            zmq_msg_close(&message) // runs `release`
            throw error
        }
    }

    /// Waits until libzmq has written out every zero-copy piece, watching both neighbours meanwhile.
    func waitForSends() throws {
        while inFlight.value > 0 {
            while try receiveFromRight({ _, _ in }) {}
            try keepAlive()
            var items = [zmq_pollitem_t(socket: outbound?.handle, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0)]
            _ = zmq_poll(&items, 1, 1)
        }
    }

    /// Waits for the next message of an operation from the left neighbour and hands its payload
    /// (valid only during the call) to `consume`. Heartbeats are answered and both neighbours
    /// watched meanwhile. Anything but the expected message is an error naming the left rank.
    func receiveData(_ kind: RingMessageKind, step: UInt64, bucket: UInt32, chunk: UInt32, bytes: Int,
                     _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        var done = false
        func accept(_ h: RingHeader, _ payload: UnsafeRawBufferPointer?) throws {
            guard h.kind == kind, h.step == step, h.bucket == bucket, h.chunk == chunk else {
                throw AllreduceError.badFrame(rank: left, reason: "got \(h.kind) step \(h.step) bucket \(h.bucket) chunk \(h.chunk), expected \(kind) step \(step) bucket \(bucket) chunk \(chunk) (stale or out of order)")
            }
            guard let payload, payload.count == bytes else {
                throw AllreduceError.badFrame(rank: left, reason: "payload of \(payload?.count ?? 0) bytes, expected \(bytes)")
            }
            try consume(payload)
            done = true
        }
        if let (h, payload) = stashed {
            stashed = nil
            try payload.withUnsafeBytes { try accept(h, $0) }
            return
        }
        while !done {
            // Also while data streams in: the right's heartbeats must be read and ours sent.
            while try receiveFromRight({ _, _ in }) {}
            try keepAlive()
            if leftGone { throw AllreduceError.peerLeft(rank: left) }
            let got = try receiveFromLeft { h, payload in try accept(h, payload) }
            if !done && !got {
                try waitReadable(timeout: max(0.001, min(nextHeartbeat.timeIntervalSinceNow, configuration.heartbeat.interval / 2)))
            }
        }
    }

    // MARK: Ending

    /// Tells both neighbours this rank is leaving: `abort` with a reason after a failure, `bye`
    /// after a clean finish. Best effort: the sockets linger briefly to deliver it.
    func sayGoodbye(abortReason: String?) {
        let bytes = Array((abortReason ?? "").utf8.prefix(4000))
        bytes.withUnsafeBytes { payload in
            let h = header(abortReason == nil ? .bye : .abort, payloadBytes: payload.count)
            if let outbound, !rightGone { try? send(h, on: outbound, to: nil, payload: payload) }
            if !leftGone { try? send(h, on: inbound, to: routingID(of: left), payload: payload) }
        }
    }

    // MARK: Messages

    private func send(_ header: RingHeader, on socket: ZMQSocket, to routingID: Data?, payload: UnsafeRawBufferPointer? = nil,
                      more: Bool = false) throws {
        func part(_ pointer: UnsafeRawPointer?, _ count: Int, more: Bool) throws {
            let flags = ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)
            while zmq_send(socket.handle, pointer, count, flags) < 0 {
                if zmq_errno() == EINTR { continue }
                throw ZMQError.last("zmq_send")
            }
        }
        if let routingID { try routingID.withUnsafeBytes { try part($0.baseAddress, $0.count, more: true) } }
        let bytes = header.encoded()
        try bytes.withUnsafeBytes { try part($0.baseAddress, $0.count, more: more || payload != nil) }
        if let payload { try part(payload.baseAddress, payload.count, more: false) }
    }

    /// Reads one message from the left neighbour (ROUTER: routing id, header, payload?) if one
    /// is queued. Heartbeats and control messages are handled here; data goes to `body`.
    private func receiveFromLeft(_ body: (RingHeader, UnsafeRawBufferPointer?) throws -> Void) throws -> Bool {
        try receive(inbound) { frames, truncated in
            guard frames.count >= 2 else { return } // a bare routing id: nothing to check
            let id = Data(frames[0])
            guard id == routingID(of: left) else {
                // Not our left neighbour (a stray connection, or a rank of another ring): never trusted.
                log.warning("rank \(rank): dropped a message from unknown peer \(String(decoding: id, as: UTF8.self)) (expected rank \(left))")
                return
            }
            if truncated { throw AllreduceError.badFrame(rank: left, reason: "more than \(Self.maxParts - 1) frames in one message") }
            let h = try check(frames[1], payload: frames.count > 2 ? frames[2] : nil, payloadFrames: frames.count - 2, from: left)
            lastHeardLeft = Date()
            try handleControl(h, payload: frames.count > 2 ? frames[2] : nil, from: left, fromLeft: true, body)
        }
    }

    /// Reads one message from the right neighbour (DEALER: header, payload?) if one is queued.
    private func receiveFromRight(_ body: (RingHeader, UnsafeRawBufferPointer?) throws -> Void) throws -> Bool {
        guard let outbound else { return false }
        return try receive(outbound) { frames, truncated in
            if truncated { throw AllreduceError.badFrame(rank: right, reason: "more than \(Self.maxParts) frames in one message") }
            let h = try check(frames[0], payload: frames.count > 1 ? frames[1] : nil, payloadFrames: frames.count - 1, from: right)
            lastHeardRight = Date()
            guard h.kind != .data && h.kind != .gather else {
                throw AllreduceError.badFrame(rank: right, reason: "\(h.kind) flows left to right, not back")
            }
            try handleControl(h, payload: frames.count > 1 ? frames[1] : nil, from: right, fromLeft: false, body)
        }
    }

    private func check(_ frame: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer?, payloadFrames: Int, from peer: Int) throws -> RingHeader {
        let h: RingHeader
        do { h = try RingHeader.decode(frame) } catch { throw AllreduceError.badFrame(rank: peer, reason: "\(error)") }
        guard h.session == tag else {
            throw AllreduceError.badFrame(rank: peer, reason: "frame of another ring (session tag \(String(h.session, radix: 16)), ours \(String(tag, radix: 16)))")
        }
        guard h.sender == peer, h.worldSize == worldSize else {
            throw AllreduceError.badFrame(rank: peer, reason: "claims to be rank \(h.sender) of \(h.worldSize)")
        }
        guard payloadFrames <= 1 else { throw AllreduceError.badFrame(rank: peer, reason: "\(payloadFrames) payload frames") }
        guard (payload?.count ?? 0) == h.payloadBytes else {
            throw AllreduceError.badFrame(rank: peer, reason: "header declares \(h.payloadBytes) payload bytes, the frame has \(payload?.count ?? 0)")
        }
        return h
    }

    private func handleControl(_ h: RingHeader, payload: UnsafeRawBufferPointer?, from peer: Int, fromLeft: Bool,
                               _ body: (RingHeader, UnsafeRawBufferPointer?) throws -> Void) throws {
        switch h.kind {
        case .heartbeat, .hello, .welcome:
            if h.kind == .hello && fromLeft {
                try send(header(.welcome), on: inbound, to: routingID(of: left))
            }
            if h.kind != .heartbeat { try body(h, payload) }
        case .abort:
            let reason = payload.map { String(decoding: $0, as: UTF8.self) } ?? ""
            throw AllreduceError.peerAborted(rank: peer, reason: reason)
        case .bye:
            // By connection, not by rank: with two ranks the left is also the right, and the
            // bye on the other connection may overtake data still queued on this one.
            if fromLeft { leftGone = true } else { rightGone = true }
        case .data, .gather:
            try body(h, payload)
        }
    }

    /// Receives one whole multipart message without copying it, if one is queued. `body` gets
    /// its frames and whether there were more than fit (such a message is malformed; the
    /// caller decides whose fault that is once it knows the sender).
    private func receive(_ socket: ZMQSocket, _ body: ([UnsafeRawBufferPointer], _ truncated: Bool) throws -> Void) throws -> Bool {
        var count = 0
        var truncated = false
        defer { for i in 0..<count { zmq_msg_close(parts + i) } }
        while true {
            if count == Self.maxParts {
                // Parts past the last slot are read into it in turn and dropped.
                count -= 1
                zmq_msg_close(parts + count)
                truncated = true
            }
            let slot = parts + count
            zmq_msg_init(slot)
            if zmq_msg_recv(slot, socket.handle, count == 0 && !truncated ? ZMQ_DONTWAIT : 0) < 0 {
                let error = ZMQError.last("zmq_msg_recv")
                zmq_msg_close(slot)
                if error.code == EINTR { continue }
                if error.wouldBlock && count == 0 { return false }
                throw error
            }
            count += 1
            if zmq_msg_more(slot) == 0 { break }
        }
        try body((0..<count).map { UnsafeRawBufferPointer(start: zmq_msg_data(parts + $0), count: zmq_msg_size(parts + $0)) }, truncated)
        return true
    }
}

/// How many zero-copy messages libzmq still holds; its I/O thread decrements it.
final class InFlightCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(_ delta: Int) { lock.lock(); count += delta; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
