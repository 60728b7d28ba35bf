import Foundation
import XCTest
@testable import Cluster

/// A hostile peer on a coordinator that takes plain connections (loopback, no keys): it forges
/// results and failures for other workers' leases, takes leases and vanishes, claims absurd
/// slot counts, opens uploads it never finishes and asks for artifacts it has no lease for.
/// The real workers' trials must each be done once, by them, with no retry budget spent.
final class ForgedPeerTests: ClusterProcessTestCase {
    /// A raw DEALER on the coordinator's endpoint, speaking the wire protocol by hand.
    final class Peer {
        let socket: ZMQSocket
        private let context: ZMQContext

        init(_ endpoint: String) throws {
            context = try ZMQContext()
            socket = try context.socket(.dealer)
            try socket.setLinger(milliseconds: 0)
            try socket.connect(endpoint)
        }

        func send<Body: Encodable>(_ type: MessageType, _ body: Body, binary: [Data] = []) throws {
            try socket.send(try WireEnvelope.make(type, body, binary: binary).frames())
        }

        func register(name: String, threads: Int) throws {
            try send(.register, RegisterMessage(workerID: UUID().uuidString, name: name, host: "forger", pid: 1, threads: threads,
                                                version: "rt-cluster/1", revision: WireEnvelope.protocolRevision))
        }

        /// Every message received within `seconds`.
        func drain(for seconds: TimeInterval) -> [WireEnvelope] {
            var received: [WireEnvelope] = []
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if let message = try? socket.receive(dontWait: true), let envelope = try? WireEnvelope.decode(message.frames[...]) {
                    received.append(envelope)
                } else {
                    Thread.sleep(forTimeInterval: 0.01)
                }
            }
            return received
        }
    }

    /// Forged results and failures for every trial's first attempt, from a stranger and from a
    /// registered peer that holds no lease, all through the sweep: every one is dropped; the
    /// real worker's results are the ones stored, and with `retries: 0` nothing fails.
    func testReportsOnLeasesThePeerDoesNotHoldAreDropped() throws {
        let endpoint = harness.ipcEndpoint()
        let coordinator = try startCoordinator(try sleepSweep("forged", trials: 12, seconds: 0.3, retries: 0), endpoint: endpoint)
        try startWorker("honest", endpoint: endpoint)
        let stranger = try Peer(endpoint)
        let member = try Peer(endpoint)
        try member.register(name: "mallory", threads: 1) // never sends ready: it gets no lease
        let status = try StatusClient(connect: endpoint)
        var dropped = 0
        let deadline = Date().addingTimeInterval(60)
        while coordinator.isRunning && Date() < deadline {
            for peer in [stranger, member] {
                for i in 0..<12 {
                    let trial = String(format: "nap-%04d", i)
                    try peer.send(.result, ResultMessage(trialID: trial, attempt: 1, metrics: ["forged": .bool(true)], artifact: nil,
                                                         maskNames: [], seconds: 0, token: "00000000000000000000000000000000"))
                    try peer.send(.failure, FailureMessage(trialID: trial, attempt: 1, reason: "forged"))
                }
            }
            dropped = max(dropped, (try? status.status(timeout: 1))?.dropped["not_lease_holder"] ?? dropped)
            _ = member.drain(for: 0.1) // answer nothing, just keep its queue short
        }
        XCTAssertEqual(coordinator.waitForExit(timeout: 30), 0, coordinator.logTail())
        XCTAssertGreaterThan(dropped, 0, "the coordinator counts what it dropped")
        let report = try assertAllDoneExactlyOnce("forged", count: 12)
        for trial in report.trials {
            XCTAssertEqual(trial.worker, "honest", trial.id)
            XCTAssertNil(trial.metrics?["forged"], "\(trial.id) stored a forged result")
        }
    }

    /// A peer that takes 8 leases and vanishes without starting any: they come back with their
    /// attempt given back (retries: 0, yet nothing fails) and the real worker does them all.
    /// Absurd registrations are refused, saying why.
    func testAPeerThatTakesLeasesAndVanishesSpendsNoRetryBudget() throws {
        let endpoint = harness.ipcEndpoint()
        let coordinator = try startCoordinator(try sleepSweep("hoard", trials: 10, seconds: 0.2, retries: 0), endpoint: endpoint)
        let greedy = try Peer(endpoint)
        try greedy.register(name: "greedy", threads: 8)
        try greedy.send(.ready, ReadyMessage(slots: 8))
        var leases = 0
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 20) {
            leases += greedy.drain(for: 0.1).filter { $0.type == .lease }.count
            return leases >= 8
        }, "the greedy peer got \(leases) leases")
        greedy.socket.close() // vanishes: never says a trial started

        let claims = try Peer(endpoint)
        try claims.register(name: "huge", threads: 100_000)
        try claims.send(.register, RegisterMessage(workerID: UUID().uuidString, name: String(repeating: "n", count: 4 << 20), host: "forger",
                                                   pid: 1, threads: 1, version: "rt-cluster/1", revision: WireEnvelope.protocolRevision))
        let refusals = claims.drain(for: 1).filter { $0.type == .shutdown }.compactMap { try? $0.body(ShutdownMessage.self).reason }
        XCTAssertTrue(refusals.contains { $0.contains("100000 trials at once") }, "\(refusals)")
        XCTAssertTrue(refusals.contains { $0.contains("name of 4194304 bytes") }, "\(refusals)")

        try startWorker("honest", endpoint: endpoint)
        XCTAssertEqual(coordinator.waitForExit(timeout: 60), 0, coordinator.logTail())
        let report = try assertAllDoneExactlyOnce("hoard", count: 10)
        XCTAssertEqual(Set(report.trials.compactMap(\.worker)), ["honest"])
        XCTAssertTrue(coordinator.logText().contains("before it started"), coordinator.logTail())
        XCTAssertFalse(coordinator.logText().contains(String(repeating: "n", count: 1000)), "the 4 MiB name itself is not logged")
    }

    /// Uploads a stranger starts are refused; a registered peer may hold 4 open at most; an
    /// artifact goes only to a worker whose lease needs it. The sweep's own artifacts (a child
    /// stage reads its parent's) still travel.
    func testUploadsAreBoundedAndArtifactsGoOnlyToLeaseHolders() throws {
        let endpoint = harness.ipcEndpoint()
        let sweep = try harness.writeSweep("uploads", """
            name: uploads
            retries: 0
            stages:
              - {name: base, job: sum, parameters: {artifact_bytes: 300000}, grid: {add: [1, 2]}}
              - {name: child, job: sum, from: base, grid: {add: [10]}}
              - {name: hold, job: sleep, parameters: {seconds: 4}}
            """)
        let coordinator = try startCoordinator(sweep, endpoint: endpoint)
        let stranger = try Peer(endpoint)
        let member = try Peer(endpoint)
        try member.register(name: "mallory", threads: 1)
        for i in 0..<300 {
            let hash = SHA256.hex(Data("upload \(i)".utf8))
            let chunk = ArtifactChunkMessage(hash: hash, name: "x", totalSize: 2_000_000, index: 0, count: 2, trialID: nil)
            try (i % 2 == 0 ? stranger : member).send(.artifactChunk, chunk, binary: [Data(count: 1000)])
        }
        let status = try StatusClient(connect: endpoint)
        var snapshot: ClusterStatus?
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 20) {
            snapshot = try? status.status(timeout: 1)
            return (snapshot?.dropped["upload_refused"] ?? 0) >= 150 && (snapshot?.dropped["artifact_rejected"] ?? 0) >= 146
        }, "\(String(describing: snapshot?.dropped))")
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(coordinator.pid)/fd").count) ?? 0
        XCTAssertLessThan(descriptors, 100, "open uploads hold descriptors")

        try startWorker("honest", endpoint: endpoint, extra: ["--concurrency", "2"])
        // While `hold` keeps the run going: a base artifact exists, and a peer without a lease
        // that needs it asks for it by its hash.
        var hash: String?
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 30) {
            hash = (try? self.harness.store("uploads").report().trials)?.first { $0.stage == "base" && $0.artifact != nil }?.artifact
            return hash != nil
        })
        // Registered afresh (its first session, which sent no heartbeats, is presumed dead by
        // now): a worker in good standing, just without a lease that needs this artifact.
        try member.register(name: "mallory", threads: 1)
        try member.send(.artifactRequest, ArtifactRequestMessage(hash: try XCTUnwrap(hash)))
        let replies = member.drain(for: 1).filter { $0.type == .artifactChunk || $0.type == .artifactMissing }
        XCTAssertEqual(replies.map(\.type), [.artifactMissing], "served to a peer whose lease does not need it")

        XCTAssertEqual(coordinator.waitForExit(timeout: 60), 0, coordinator.logTail())
        let report = try assertAllDoneExactlyOnce("uploads", count: 5)
        for child in report.trials where child.stage == "child" {
            let parent = try XCTUnwrap(report.trials.first { $0.id == child.parent })
            XCTAssertEqual(child.metrics?["sum"]?.doubleValue, (parent.metrics?["sum"]?.doubleValue ?? .nan) + 10, "\(child.id) read its parent's artifact")
        }
    }
}
