import CZeroMQ
import Foundation
import XCTest
@testable import Cluster

/// The ring all-reduce with every rank on its own thread of this process, over loopback TCP.
final class RingAllreduceTests: XCTestCase {
    /// A one-second window: short, yet long enough that a loaded 2-core machine never misses it.
    let heartbeat = HeartbeatSettings(interval: 0.25, liveness: 4)

    /// Runs `body(rank)` on k threads at once (ring operations block until every rank joins).
    func onEveryRank<T>(_ k: Int, _ body: @escaping (Int) throws -> T) throws -> [T] {
        var results = [Result<T, Error>?](repeating: nil, count: k)
        let group = DispatchGroup()
        let lock = NSLock()
        for rank in 0..<k {
            group.enter()
            let thread = Thread {
                let result = Result { try body(rank) }
                lock.lock(); results[rank] = result; lock.unlock()
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        return try results.map { try $0!.get() }
    }

    func formRing(_ k: Int, session: String = "test", pieceBytes: Int = 512 << 10, security: [RingSecurity]? = nil,
                  heartbeat: HeartbeatSettings? = nil) throws -> [RingCommunicator] {
        let rings = try (0..<k).map {
            try RingCommunicator(configuration: RingConfiguration(rank: $0, worldSize: k, bind: "tcp://127.0.0.1:*", session: session,
                                                                  heartbeat: heartbeat ?? self.heartbeat, connectTimeout: 20, pieceBytes: pieceBytes,
                                                                  security: security?[$0]))
        }
        let endpoints = rings.map(\.boundEndpoint)
        _ = try onEveryRank(k) { try rings[$0].connect(endpoints: endpoints) }
        return rings
    }

    /// The documented order: total(c) = ((x[c] + x[c+1]) + ...) + x[c+k-1], chunk c = [n·c/k, n·(c+1)/k).
    func referenceSum(_ inputs: [[Float]]) -> [Float] {
        let k = inputs.count, n = inputs[0].count
        var total = [Float](repeating: 0, count: n)
        for c in 0..<k {
            for i in RingLink.chunk(c, of: n, worldSize: k) {
                var acc = inputs[c][i]
                for j in 1..<k { acc = acc + inputs[(c + j) % k][i] }
                total[i] = acc
            }
        }
        return total
    }

    func testAwkwardSizesMatchTheReferenceSumBitForBit() throws {
        for k in [2, 3] {
            // Small pieces, so a chunk spans several messages and piece boundaries fall unevenly.
            let rings = try formRing(k, session: "awkward-\(k)", pieceBytes: 4096)
            defer { rings.forEach { $0.close() } }
            for (bucket, n) in [1, 2, 5, 1001, 30_011].enumerated() {
                var generator = SplitMix64(seed: UInt64(n * 31 + k))
                let inputs = (0..<k).map { _ in (0..<n).map { _ in Float(generator.nextUnit() * 2 - 1) } }
                let expected = referenceSum(inputs)
                let outputs = try onEveryRank(k) { rank -> [Float] in
                    var buffer = inputs[rank]
                    try buffer.withUnsafeMutableBufferPointer { try rings[rank].sum($0.baseAddress!, count: n, step: 7, bucket: bucket) }
                    return buffer
                }
                for rank in 0..<k {
                    XCTAssertEqual(outputs[rank].map(\.bitPattern), expected.map(\.bitPattern), "k \(k), n \(n), rank \(rank)")
                }
            }
        }
    }

    func testHundredMegabytesAreExact() throws {
        let n = 25_000_000 // 100 MB of Float32
        for k in [2, 3] {
            // The production window (3 s): this test is about sums, and 300 MB of buffers on a
            // loaded 2-core machine can keep a thread off the CPU for longer than a short one.
            let rings = try formRing(k, session: "big-\(k)", heartbeat: .default)
            defer { rings.forEach { $0.close() } }
            // Small integers: exact in any order, so every element can be checked against the formula.
            let wrong = try onEveryRank(k) { rank -> Int in
                var buffer = [Float](unsafeUninitializedCapacity: n) { b, count in
                    for i in 0..<n { b[i] = Float((i &* 7 &+ rank &* 13) % 1000) }
                    count = n
                }
                try buffer.withUnsafeMutableBufferPointer { try rings[rank].sum($0.baseAddress!, count: n, step: 1, bucket: 0) }
                var wrong = 0
                for i in 0..<n {
                    var expected: Float = 0
                    for r in 0..<k { expected += Float((i &* 7 &+ r &* 13) % 1000) }
                    if buffer[i] != expected { wrong += 1 }
                }
                return wrong
            }
            XCTAssertEqual(wrong, Array(repeating: 0, count: k), "k \(k)")
        }
    }

    func testGatherAndSumsInSequence() throws {
        let rings = try formRing(3, session: "gather")
        defer { rings.forEach { $0.close() } }
        let results = try onEveryRank(3) { rank -> [[UInt8]] in
            var values: [Float] = [Float(rank), 1]
            for step in 0..<20 {
                try values.withUnsafeMutableBufferPointer { try rings[rank].submitSum($0.baseAddress!, count: 2, step: step, bucket: 0) }
                try rings[rank].waitForAll()
            }
            return try rings[rank].gather([UInt8(rank), 42], step: 20, bucket: 0)
        }
        for blocks in results { XCTAssertEqual(blocks, [[0, 42], [1, 42], [2, 42]]) }
    }

    func testCurveKeysSecureTheRing() throws {
        let keys = try (0..<2).map { _ in try CurveKeyPair.generate() }
        let security = keys.map { RingSecurity(keys: $0, peerPublicKeys: keys.map(\.publicKey)) }
        let rings = try formRing(2, session: "curve", security: security)
        defer { rings.forEach { $0.close() } }
        let outputs = try onEveryRank(2) { rank -> [Float] in
            var buffer: [Float] = [1, 2, 3]
            try buffer.withUnsafeMutableBufferPointer { try rings[rank].sum($0.baseAddress!, count: 3, step: 0, bucket: 0) }
            return buffer
        }
        XCTAssertEqual(outputs, [[2, 4, 6], [2, 4, 6]])
    }

    /// As in a sweep: each rank binds knowing only its own keys; the peers' keys come with the addresses.
    func testCurveKeysCanArriveWithThePeersAddresses() throws {
        let keys = try (0..<3).map { _ in try CurveKeyPair.generate() }
        let rings = try (0..<3).map {
            try RingCommunicator(configuration: RingConfiguration(rank: $0, worldSize: 3, bind: "tcp://127.0.0.1:*", session: "late-keys",
                                                                  heartbeat: heartbeat, security: RingSecurity(keys: keys[$0])))
        }
        defer { rings.forEach { $0.close() } }
        let endpoints = rings.map(\.boundEndpoint)
        let outputs = try onEveryRank(3) { rank -> [Float] in
            try rings[rank].connect(endpoints: endpoints, peerPublicKeys: keys.map(\.publicKey))
            var buffer: [Float] = [Float(rank), 1]
            try buffer.withUnsafeMutableBufferPointer { try rings[rank].sum($0.baseAddress!, count: 2, step: 0, bucket: 0) }
            return buffer
        }
        XCTAssertEqual(outputs, Array(repeating: [3, 3], count: 3))
    }

    /// The race behind a hang seen under load: a rank dials its right neighbour before that
    /// neighbour has learnt the keys. The neighbour's ZAP handler holds the request until the
    /// keys arrive; denied, libzmq would never retry and the ring would time out.
    func testARankThatDialsBeforeItsNeighbourKnowsTheKeysIsHeldNotDenied() throws {
        let keys = try (0..<2).map { _ in try CurveKeyPair.generate() }
        let rings = try (0..<2).map {
            try RingCommunicator(configuration: RingConfiguration(rank: $0, worldSize: 2, bind: "tcp://127.0.0.1:*", session: "early-dial",
                                                                  heartbeat: heartbeat, connectTimeout: 20, security: RingSecurity(keys: keys[$0])))
        }
        defer { rings.forEach { $0.close() } }
        let endpoints = rings.map(\.boundEndpoint)
        let outputs = try onEveryRank(2) { rank -> [Float] in
            // Rank 0 learns the keys well after rank 1 has dialled it (the order, not the time, matters).
            if rank == 0 { Thread.sleep(forTimeInterval: 1) }
            try rings[rank].connect(endpoints: endpoints, peerPublicKeys: keys.map(\.publicKey))
            var buffer: [Float] = [Float(rank), 1]
            try buffer.withUnsafeMutableBufferPointer { try rings[rank].sum($0.baseAddress!, count: 2, step: 0, bucket: 0) }
            return buffer
        }
        XCTAssertEqual(outputs, Array(repeating: [1, 2], count: 2))
    }

    func testAPeerWithAnotherKeyIsNeverAdmitted() throws {
        let keys = try (0..<2).map { _ in try CurveKeyPair.generate() }
        let stranger = try CurveKeyPair.generate()
        let rings = try (0..<2).map {
            try RingCommunicator(configuration: RingConfiguration(rank: $0, worldSize: 2, bind: "tcp://127.0.0.1:*", session: "stranger",
                                                                  heartbeat: heartbeat, connectTimeout: 1.5, security: RingSecurity(keys: keys[$0])))
        }
        defer { rings.forEach { $0.close() } }
        let endpoints = rings.map(\.boundEndpoint)
        // Rank 1 expects rank 0 to hold the stranger's key, so it admits nobody rank 0 can be.
        let believed = [[keys[0].publicKey, keys[1].publicKey], [stranger.publicKey, keys[1].publicKey]]
        let errors = try onEveryRank(2) { rank -> String in
            do { try rings[rank].connect(endpoints: endpoints, peerPublicKeys: believed[rank]); return "formed" } catch { return "\(error)" }
        }
        XCTAssertTrue(errors[1].contains("rank(s) 0 did not connect"), errors[1])
        XCTAssertTrue(errors[0].contains("did not connect"), errors[0])
    }

    // MARK: Failures

    func testASilentPeerFailsTheSumNamingItsRank() throws {
        let (ring, fake) = try ringWithFakeRightNeighbour(session: "silent")
        defer { ring.close() }
        _ = fake // it answered the handshake and now says nothing more
        var buffer: [Float] = [1, 2, 3, 4]
        let started = Date()
        XCTAssertThrowsError(try buffer.withUnsafeMutableBufferPointer { try ring.sum($0.baseAddress!, count: 4, step: 0, bucket: 0) }) {
            guard case let .peerSilent(rank, _)? = $0 as? AllreduceError else { return XCTFail("\($0)") }
            XCTAssertEqual(rank, 1)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "must fail within the liveness window, not hang")
        XCTAssertThrowsError(try ring.gather([1], step: 1, bucket: 0), "the ring stays broken")
    }

    func testStaleAndGarbageFramesAreRejectedNamingThePeer() throws {
        let cases: [(String, (FakeRank) throws -> Void, String)] = [
            ("stale", { try $0.sendData(step: 3, chunk: 0, floats: 2) }, "stale or out of order"),
            ("short", { try $0.dealer.send([Data([0x52, 0x41, 1])]) }, "header of 3 bytes"),
            ("version", { fake in
                var header = fake.header(.data, step: 9); header[2] = 9
                try fake.dealer.send([Data(header), Data(count: 8)])
            }, "version 9"),
            ("size", { try $0.sendData(step: 9, chunk: 0, floats: 3) }, "expected 8"),
            ("frames", { try $0.dealer.send(Array(repeating: Data(count: 4), count: 6)) }, "frames in one message"),
        ]
        for (name, misbehave, reason) in cases {
            let (ring, fake) = try ringWithFakeRightNeighbour(session: "garbage-\(name)")
            defer { ring.close() }
            try misbehave(fake)
            var buffer: [Float] = [1, 2, 3, 4]
            XCTAssertThrowsError(try buffer.withUnsafeMutableBufferPointer { try ring.sum($0.baseAddress!, count: 4, step: 9, bucket: 0) }) {
                guard case let .badFrame(rank, why)? = $0 as? AllreduceError else { return XCTFail("\(name): \($0)") }
                XCTAssertEqual(rank, 1, name)
                XCTAssertTrue(why.contains(reason), "\(name): \(why)")
                XCTAssertTrue("\($0)".contains("rank 1"), "\($0)")
            }
        }
    }

    func testStrayConnectionsAreIgnored() throws {
        let rings = try formRing(2, session: "stray")
        defer { rings.forEach { $0.close() } }
        let context = try ZMQContext()
        let stray = try context.socket(.dealer)
        try stray.setLinger(milliseconds: 0)
        try stray.setRoutingID(Data("intruder".utf8))
        try stray.connect(rings[0].boundEndpoint)
        try stray.send([Data(repeating: 0xFF, count: 32), Data(count: 8)])
        try stray.send(Array(repeating: Data([1]), count: 7))
        let outputs = try onEveryRank(2) { rank -> [Float] in
            var buffer: [Float] = [Float(rank), 1]
            try buffer.withUnsafeMutableBufferPointer { try rings[rank].sum($0.baseAddress!, count: 2, step: 0, bucket: 0) }
            return buffer
        }
        XCTAssertEqual(outputs, [[1, 2], [1, 2]])
        stray.close()
    }

    /// Rank 0 is real; rank 1 is this test speaking the protocol by hand.
    func ringWithFakeRightNeighbour(session: String) throws -> (RingCommunicator, FakeRank) {
        // A longer window than the real rings': the fake never heartbeats, and a garbage frame
        // must be read before its silence counts.
        let ring = try RingCommunicator(configuration: RingConfiguration(rank: 0, worldSize: 2, bind: "tcp://127.0.0.1:*", session: session,
                                                                         heartbeat: HeartbeatSettings(interval: 0.5, liveness: 3), connectTimeout: 20))
        let fake = try FakeRank(session: session, peer: ring.boundEndpoint)
        let endpoints = [ring.boundEndpoint, fake.endpoint]
        let formed = DispatchSemaphore(value: 0)
        Thread { try? ring.connect(endpoints: endpoints); formed.signal() }.start()
        try fake.handshake()
        formed.wait()
        return (ring, fake)
    }
}

/// A hand-made rank 1 of a ring of two: binds its own ROUTER, connects a DEALER to rank 0.
final class FakeRank {
    let context: ZMQContext
    let router: ZMQSocket
    let dealer: ZMQSocket
    let endpoint: String
    let tag: UInt32

    init(session: String, peer: String) throws {
        context = try ZMQContext()
        tag = RingHeader.sessionTag(session)
        router = try context.socket(.router)
        try router.setLinger(milliseconds: 0)
        try router.bind("tcp://127.0.0.1:*")
        endpoint = router.lastEndpoint!
        dealer = try context.socket(.dealer)
        try dealer.setLinger(milliseconds: 0)
        try dealer.setRoutingID(Data("\(String(tag, radix: 16))/1".utf8))
        try dealer.connect(peer)
    }

    func header(_ kind: RingMessageKind, step: UInt64 = 0, chunk: UInt32 = 0, bytes: Int = 0) -> [UInt8] {
        RingHeader(kind: kind, sender: 1, worldSize: 2, step: step, bucket: 0, chunk: chunk, payloadBytes: bytes, session: tag).encoded()
    }

    /// Hello to rank 0; welcome back to rank 0's hello.
    func handshake() throws {
        try dealer.send([Data(header(.hello))])
        var poller = ZMQPoller([router])
        guard try poller.poll(timeoutMilliseconds: 10_000)[0], let hello = try router.receive(dontWait: true) else {
            throw JobError("rank 0 never said hello")
        }
        try router.send([hello.frames[0], Data(header(.welcome))])
    }

    func sendData(step: UInt64, chunk: UInt32, floats: Int) throws {
        try dealer.send([Data(header(.data, step: step, chunk: chunk, bytes: floats * 4)), Data(count: floats * 4)])
    }

    deinit { dealer.close(); router.close() }
}

/// SplitMix64: a seeded generator for test data.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
