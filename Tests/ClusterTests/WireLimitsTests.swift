import Foundation
import XCTest
@testable import Cluster

/// Every string a worker sends is bounded, and references name artifacts only by hash.
final class WireLimitsTests: XCTestCase {
    private let hash = SHA256.hex(Data("x".utf8))

    private func registration(jobs: [String]?) -> RegisterMessage {
        RegisterMessage(workerID: "id", name: "w", host: "h", pid: 1, threads: 1, version: "v", revision: 4, jobs: jobs)
    }

    func testJobTypeListsAreBounded() {
        XCTAssertNil(WireLimits.problem(with: registration(jobs: ["sum", "sleep"]), maxThreads: 4))
        XCTAssertNil(WireLimits.problem(with: registration(jobs: nil), maxThreads: 4), "an older worker lists none")
        XCTAssertNil(WireLimits.problem(with: registration(jobs: []), maxThreads: 4), "a worker may run nothing yet")
        XCTAssertEqual(WireLimits.problem(with: registration(jobs: (0..<257).map { "j\($0)" }), maxThreads: 4), "257 job types (at most 256)")
        XCTAssertEqual(WireLimits.problem(with: registration(jobs: ["sum", String(repeating: "j", count: 65)]), maxThreads: 4),
                       "job type of 65 bytes (at most 64)")
        XCTAssertEqual(WireLimits.problem(with: registration(jobs: ["a\nb"]), maxThreads: 4), "job type contains control characters")
        XCTAssertEqual(WireLimits.problem(with: registration(jobs: [""]), maxThreads: 4), "empty job type")
    }

    func testAResultNamesItsArtifactByHashNeverByPath() {
        func result(_ artifact: ArtifactReference?, masks: [String] = [], seconds: Double = 1) -> ResultMessage {
            ResultMessage(trialID: "a-0000", attempt: 1, metrics: [:], artifact: artifact, maskNames: masks, seconds: seconds)
        }
        XCTAssertNil(WireLimits.problem(with: result(ArtifactReference(hash: hash, size: 1, name: "model.safetensors"), masks: ["robust"])))
        XCTAssertEqual(WireLimits.problem(with: result(ArtifactReference(hash: "../rt.sqlite", size: 1, name: "x"))),
                       "artifact hash \"../rt.sqlite\" is not a lower-case hex SHA-256")
        XCTAssertEqual(WireLimits.problem(with: result(ArtifactReference(hash: hash, size: -1, name: "x"))), "artifact size -1 is negative")
        XCTAssertEqual(WireLimits.problem(with: result(ArtifactReference(hash: hash, size: 1, name: String(repeating: "n", count: 300)))),
                       "artifact name of 300 bytes (at most 255)")
        XCTAssertEqual(WireLimits.problem(with: result(nil, masks: [String(repeating: "m", count: 129)])), "mask name of 129 bytes (at most 128)")
        XCTAssertEqual(WireLimits.problem(with: result(nil, seconds: -1)), "seconds -1.0 is not a duration")
        XCTAssertEqual(WireLimits.problem(with: result(nil, seconds: .infinity)), "seconds inf is not a duration")
    }

    func testCheckpointsAndRingAddressesAreBounded() {
        let reference = ArtifactReference(hash: hash, size: 1, name: "snapshot")
        XCTAssertNil(WireLimits.problem(with: CheckpointMessage(trialID: "t", attempt: 1, artifact: reference, step: 5)))
        XCTAssertEqual(WireLimits.problem(with: CheckpointMessage(trialID: "t", attempt: 1, artifact: reference, step: -5)), "step -5 is negative")
        let key = String(repeating: "k", count: 40)
        XCTAssertNil(WireLimits.problem(with: RingEndpointMessage(trialID: "t", attempt: 1, rank: 0, endpoint: "tcp://10.0.0.5:41234", publicKey: key)))
        XCTAssertEqual(WireLimits.problem(with: RingEndpointMessage(trialID: "t", attempt: 1, rank: 0, endpoint: String(repeating: "e", count: 513), publicKey: nil)),
                       "ring endpoint of 513 bytes (at most 512)")
        XCTAssertEqual(WireLimits.problem(with: RingEndpointMessage(trialID: "t", attempt: 1, rank: 0, endpoint: "tcp://h:1", publicKey: "short")),
                       "public key of 5 characters (Z85 keys have 40)")
    }

    func testAResultsBodyIsBoundedBeforeItIsDecoded() throws {
        let size = WireLimits.maxResultBodyBytes + 1
        XCTAssertEqual(WireLimits.problem(withBodyOf: WireEnvelope(type: .result, payload: [Data(count: size)])),
                       "JSON body of \(size) bytes (at most \(WireLimits.maxResultBodyBytes))")
        XCTAssertNil(WireLimits.problem(withBodyOf: WireEnvelope(type: .result, payload: [Data(count: size - 1)])))
        XCTAssertNil(WireLimits.problem(withBodyOf: WireEnvelope(type: .heartbeat)))
    }
}
