import CZeroMQ
import Foundation
import Logging

/// ZeroMQ's authentication hook (RFC 27) for CURVE: a REP socket on `inproc://zeromq.zap.01`
/// that libzmq asks, for every new CURVE connection on the context, whether the client's
/// public key may in. Only keys on the allow-list pass; the rest are denied, counted and logged
/// with their address, so an unknown worker never completes its handshake and never sees a lease.
/// A handler made with `holdingUnknownKeysFor` has not learnt its peers' keys yet (a ring replica
/// binds before the rendezvous names its neighbour): until `update(allowList:)` it holds an
/// unknown key's request, at most that long, instead of denying it, since libzmq does not retry
/// a connection it was denied.
public final class ZAPHandler: @unchecked Sendable {
    public static let endpoint = "inproc://zeromq.zap.01"

    private let socket: ZMQSocket
    private var allowList: CurveAllowList
    private let lock = NSCondition()
    private let holdLimit: TimeInterval?
    private var updated = false
    private var stopRequested = false
    private var _denied = 0
    private var _admitted = 0
    private var thread: Thread?
    private let log = ClusterLog.logger("zap")

    /// Binds the ZAP endpoint on `context`; must happen before any CURVE server socket binds.
    public init(context: ZMQContext, allowList: CurveAllowList, holdingUnknownKeysFor holdLimit: TimeInterval? = nil) throws {
        socket = try context.socket(.rep)
        try socket.setLinger(milliseconds: 0)
        try socket.bind(Self.endpoint)
        self.allowList = allowList
        self.holdLimit = holdLimit
    }

    /// Replaces the allow-list (a ring replica learns its neighbour's key only after binding)
    /// and answers a request held for it.
    public func update(allowList: CurveAllowList) {
        lock.lock(); self.allowList = allowList; updated = true; lock.broadcast(); lock.unlock()
    }

    public var deniedCount: Int { lock.lock(); defer { lock.unlock() }; return _denied }
    public var admittedCount: Int { lock.lock(); defer { lock.unlock() }; return _admitted }

    public func start() {
        let thread = Thread { [self] in self.serve() }
        thread.name = "rt-zap"
        self.thread = thread
        thread.start()
    }

    /// Asks the thread to stop; it notices within its poll interval.
    public func stop() {
        lock.lock(); stopRequested = true; lock.broadcast(); lock.unlock()
    }

    private var shouldStop: Bool { lock.lock(); defer { lock.unlock() }; return stopRequested }

    private func serve() {
        var poller = ZMQPoller([socket])
        while !shouldStop {
            guard let ready = try? poller.poll(timeoutMilliseconds: 100), ready[0] else { continue }
            guard let request = try? socket.receive(dontWait: true) else { continue }
            let reply = answer(request.frames)
            do { try socket.send(reply) } catch { log.warning("cannot reply: \(error)") }
        }
        socket.close()
    }

    /// Frames: version, request id, domain, address, routing id, mechanism, credentials...
    func answer(_ frames: [Data]) -> [Data] {
        let version = frames.first ?? Data("1.0".utf8)
        let requestID = frames.count > 1 ? frames[1] : Data()
        func reply(_ code: String, _ text: String, user: String) -> [Data] {
            [version, requestID, Data(code.utf8), Data(text.utf8), Data(user.utf8), Data()]
        }
        guard frames.count >= 7, String(decoding: frames[0], as: UTF8.self) == "1.0" else {
            count(denied: true)
            log.warning("malformed ZAP request with \(frames.count) frames: denied")
            return reply("500", "malformed ZAP request", user: "")
        }
        let address = String(decoding: frames[3], as: UTF8.self)
        let mechanism = String(decoding: frames[5], as: UTF8.self)
        guard mechanism == "CURVE", frames[6].count == 32 else {
            count(denied: true)
            log.warning("peer \(address): mechanism \(mechanism) is not CURVE: denied")
            return reply("400", "CURVE required", user: "")
        }
        let key = frames[6]
        lock.lock()
        var admitted = allowList.name(of: key)
        if admitted == nil, let holdLimit, !updated {
            // Only one ZAP request is open at a time (REP), so this holds the rest behind it too:
            // harmless, as nobody is admitted before the keys are known anyway.
            let deadline = Date().addingTimeInterval(holdLimit)
            while !updated && !stopRequested && lock.wait(until: deadline) {}
            admitted = allowList.name(of: key)
        }
        lock.unlock()
        guard let name = admitted else {
            count(denied: true)
            log.warning("peer \(address): public key \(Z85.encode(key) ?? "?") is not allow-listed: denied")
            return reply("400", "key not allow-listed", user: "")
        }
        count(denied: false)
        log.debug("peer \(address): admitted as \(name)")
        return reply("200", "OK", user: name)
    }

    private func count(denied: Bool) {
        lock.lock()
        if denied { _denied += 1 } else { _admitted += 1 }
        lock.unlock()
    }
}

/// How a socket secures its connections.
public enum TransportSecurity {
    /// Plain ZMTP: loopback, ipc:// and --insecure only.
    case none
    /// CurveZMQ server: our own key pair (clients are vetted by the ZAP handler).
    case curveServer(CurveKeyPair)
    /// CurveZMQ client: our key pair and the server's public key.
    case curveClient(CurveKeyPair, serverPublicKey: String)

    public func apply(to socket: ZMQSocket) throws {
        switch self {
        case .none:
            return
        case let .curveServer(keys):
            try socket.setOption(ZMQ_CURVE_SERVER, 1)
            try socket.setOption(ZMQ_CURVE_SECRETKEY, keys.secretKey)
            try socket.setOption(ZMQ_CURVE_PUBLICKEY, keys.publicKey)
            // Without a ZAP domain libzmq 4.3 still calls the handler, but be explicit.
            try socket.setOption(ZMQ_ZAP_DOMAIN, "rt")
        case let .curveClient(keys, serverKey):
            try socket.setOption(ZMQ_CURVE_SERVERKEY, serverKey)
            try socket.setOption(ZMQ_CURVE_PUBLICKEY, keys.publicKey)
            try socket.setOption(ZMQ_CURVE_SECRETKEY, keys.secretKey)
        }
    }
}
