import Foundation
import XCTest
@testable import Cluster

/// The "a bind without keys must be local" check resolves addresses, never matches text (issue 13).
final class LoopbackEndpointTests: XCTestCase {
    func testLoopbackAddressesAndNamesAreLocal() {
        for endpoint in ["tcp://127.0.0.1:5555", "tcp://127.1.2.3:*", "tcp://[::1]:5555", "tcp://localhost:5555",
                         "ipc:///tmp/rt.ipc", "inproc://x", "tcp://lo:5555"] {
            XCTAssertTrue(LoopbackEndpoint.isLocal(endpoint), endpoint)
        }
    }

    func testRoutableWildcardAndUnresolvableHostsAreNot() {
        for endpoint in ["tcp://0.0.0.0:5555", "tcp://*:5555", "tcp://[::]:5555", "tcp://10.1.2.3:5555", "tcp://[::ffff:127.0.0.1]:5555",
                         "tcp://127.evil:5555", "tcp://127.0.0.1.nip.invalid:5555", "tcp://127.0.0.1;10.0.0.1:5555",
                         "tcp://127.0.0.1", "tcp://:5555", "udp://127.0.0.1:5555", "pgm://127.0.0.1:5555"] {
            XCTAssertFalse(LoopbackEndpoint.isLocal(endpoint), endpoint)
        }
    }

    func testAddressClassification() {
        XCTAssertTrue(LoopbackEndpoint.isLoopback([127, 0, 0, 1]))
        XCTAssertTrue(LoopbackEndpoint.isLoopback([127, 255, 9, 9]))
        XCTAssertFalse(LoopbackEndpoint.isLoopback([128, 0, 0, 1]))
        XCTAssertTrue(LoopbackEndpoint.isLoopback(Array(repeating: 0, count: 15) + [1]))
        XCTAssertFalse(LoopbackEndpoint.isLoopback(Array(repeating: 0, count: 10) + [0xFF, 0xFF, 127, 0, 0, 1]), "v4-mapped is not ::1")
        XCTAssertEqual(LoopbackEndpoint.host(of: "tcp://[::1]:5555"), "::1")
        XCTAssertEqual(LoopbackEndpoint.host(of: "tcp://127.evil:5555"), "127.evil")
    }

    /// An interface named like a loopback address but holding a routable one (root: makes a
    /// veth pair for the test, as the netns tests do, and removes it).
    func testAnInterfaceNamed127EvilIsJudgedByItsAddress() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to create a network interface") }
        let name = "127.evil\(getpid() % 1000)", peer = "rt-evil\(getpid() % 1000)p"
        let add = ShellCommand(command: "ip link add \(ShellCommand.quoted(name)) type veth peer name \(peer) && ip addr add 10.213.77.1/32 dev \(ShellCommand.quoted(name))", timeout: 20).run()
        defer { _ = ShellCommand(command: "ip link del \(ShellCommand.quoted(name))", timeout: 20).run() }
        guard add.status == 0 else { throw XCTSkip("cannot create a dummy interface here: \(add.text)") }
        XCTAssertEqual(LoopbackEndpoint.interfaceAddresses(named: name), [[10, 213, 77, 1]])
        XCTAssertFalse(LoopbackEndpoint.isLocal("tcp://\(name):5555"))
        XCTAssertFalse(EndpointPolicy.isLocal("tcp://\(name):5555"), "the coordinator's own check (it was a text match, which let this through)")
    }
}
