import CZeroMQ
import Foundation
import XCTest
@testable import Cluster

final class TransportTests: XCTestCase {
    private func receive(_ socket: ZMQSocket, timeout: Int = 5000) throws -> ZMQMultipart? {
        var poller = ZMQPoller([socket])
        guard try poller.poll(timeoutMilliseconds: timeout)[0] else { return nil }
        return try socket.receive(dontWait: true)
    }

    func testRouterDealerMultipartAndZeroCopy() throws {
        let context = try ZMQContext()
        let router = try context.socket(.router)
        try router.setRouterMandatory(true)
        try router.setLinger(milliseconds: 0)
        try router.bind("inproc://router-dealer")
        let dealer = try context.socket(.dealer)
        try dealer.setLinger(milliseconds: 0)
        try dealer.connect("inproc://router-dealer")

        try dealer.send([Data("a".utf8), Data(), Data("ccc".utf8)])
        let got = try XCTUnwrap(receive(router))
        XCTAssertEqual(got.frames.count, 4, "routing id + 3 frames")
        XCTAssertEqual(Array(got.frames.dropFirst()), [Data("a".utf8), Data(), Data("ccc".utf8)])

        // 3 MB out of a buffer libzmq sends without copying; the owner is released after.
        final class Owner { let bytes: UnsafeMutableRawBufferPointer
            init(_ n: Int) { bytes = .allocate(byteCount: n, alignment: 16) }
            deinit { bytes.deallocate() } }
        weak var released: Owner?
        do {
            let owner = Owner(3_000_000)
            for i in 0..<owner.bytes.count { owner.bytes[i] = UInt8(truncatingIfNeeded: i &* 31) }
            released = owner
            try router.send([got.frames[0], Data("head".utf8)],
                            zeroCopyTail: ZeroCopyBuffer(pointer: UnsafeRawPointer(owner.bytes.baseAddress!), count: owner.bytes.count, owner: owner))
        }
        let big = try XCTUnwrap(receive(dealer))
        XCTAssertEqual(big.frames[0], Data("head".utf8))
        XCTAssertEqual(big.frames[1].count, 3_000_000)
        XCTAssertEqual(big.frames[1][2_999_999], UInt8(truncatingIfNeeded: 2_999_999 &* 31))
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 5) { released == nil }, "libzmq must release the zero-copy owner")

        // ROUTER_MANDATORY: a message to an unknown peer is an error, not a silent drop.
        XCTAssertThrowsError(try router.send([Data("nobody".utf8), Data("x".utf8)], dontWait: true)) {
            XCTAssertTrue(($0 as? ZMQError)?.hostUnreachable ?? false, "\($0)")
        }
    }

    func testPairSocketsAndTimeoutPoll() throws {
        let context = try ZMQContext()
        let a = try context.socket(.pair), b = try context.socket(.pair)
        try a.bind("inproc://pair"); try b.connect("inproc://pair")
        var poller = ZMQPoller([b])
        XCTAssertEqual(try poller.poll(timeoutMilliseconds: 20), [false])
        try a.send([Data("ping".utf8)])
        XCTAssertEqual(try receive(b)?.frames, [Data("ping".utf8)])
        a.close(); b.close()
    }

    func testCurveKeysAreZ85AndRoundTripOnDisk() throws {
        let keys = try CurveKeyPair.generate()
        XCTAssertEqual(keys.publicKey.count, 40)
        XCTAssertEqual(Z85.decode(keys.secretKey)?.count, 32)
        XCTAssertEqual(Z85.encode(Z85.decode(keys.publicKey)!), keys.publicKey)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-keys-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try keys.write(to: directory)
        XCTAssertEqual(try CurveKeyPair.read(from: directory), keys)
        let mode = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("secret.key").path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        try "not a key\n".write(to: directory.appendingPathComponent("junk.key"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CurveAllowList(directory: directory)) { XCTAssertTrue("\($0)".contains("junk.key")) }
    }

    /// Only the allow-listed client key completes the CURVE handshake (over real TCP).
    func testZAPAdmitsOnlyAllowListedKeys() throws {
        let server = try CurveKeyPair.generate(), friend = try CurveKeyPair.generate(), stranger = try CurveKeyPair.generate()
        let context = try ZMQContext()
        let zap = try ZAPHandler(context: context, allowList: CurveAllowList(names: [Z85.decode(friend.publicKey)!: "friend"]))
        zap.start()
        defer { zap.stop() }
        let router = try context.socket(.router)
        try router.setLinger(milliseconds: 0)
        try TransportSecurity.curveServer(server).apply(to: router)
        try router.bind("tcp://127.0.0.1:*")
        let endpoint = try XCTUnwrap(router.lastEndpoint)

        let clientContext = try ZMQContext()
        func client(_ keys: CurveKeyPair) throws -> ZMQSocket {
            let socket = try clientContext.socket(.dealer)
            try socket.setLinger(milliseconds: 0)
            try TransportSecurity.curveClient(keys, serverPublicKey: server.publicKey).apply(to: socket)
            try socket.connect(endpoint)
            return socket
        }
        let bad = try client(stranger)
        try bad.send([Data("from stranger".utf8)])
        let good = try client(friend)
        try good.send([Data("from friend".utf8)])
        let got = try XCTUnwrap(receive(router))
        XCTAssertEqual(got.frames.last, Data("from friend".utf8))
        XCTAssertEqual(got.userID, "friend", "the ZAP user id names the allow-listed key")
        XCTAssertNil(try receive(router, timeout: 500), "the stranger's message must never arrive")
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 5) { zap.deniedCount >= 1 })
        bad.close(); good.close()
    }
}
