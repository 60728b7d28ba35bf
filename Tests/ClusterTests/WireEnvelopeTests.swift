import Foundation
import XCTest
@testable import Cluster

final class WireEnvelopeTests: XCTestCase {
    func testRoundTripKeepsTypeRequestIDAndFrames() throws {
        let lease = LeaseMessage(trialID: "nap-0001", stage: "nap", job: "sleep", parameters: ["seconds": .double(0.2)],
                                 seed: 3, attempt: 2, parentArtifact: nil)
        let envelope = try WireEnvelope.make(.lease, lease, requestID: 0x0102_0304_0506_0708, binary: [Data([1, 2, 3])])
        let decoded = try WireEnvelope.decode(envelope.frames()[...])
        XCTAssertEqual(decoded, envelope)
        XCTAssertEqual(try decoded.body(LeaseMessage.self), lease)
        XCTAssertEqual(decoded.payload[1], Data([1, 2, 3]))
    }

    func testLeaseCarriesEveryParentAndStillReadsWithoutThem() throws {
        let first = ArtifactReference(hash: String(repeating: "a", count: 64), size: 3, name: "a.bin")
        let second = ArtifactReference(hash: String(repeating: "b", count: 64), size: 4, name: "b.bin")
        let lease = LeaseMessage(trialID: "join-0000", stage: "join", job: "sum", parameters: [:], seed: 1, attempt: 1,
                                 parentArtifact: first, parentArtifacts: [LeasedParent(stage: "left", trialID: "left-0000", artifact: first),
                                                                          LeasedParent(stage: "right", trialID: "right-0000", artifact: second)])
        XCTAssertEqual(try WireEnvelope.decode(try WireEnvelope.make(.lease, lease).frames()[...]).body(LeaseMessage.self), lease)
        // As a revision-1 coordinator sends it: no parentArtifacts key.
        let old = #"{"trialID":"c-0000","stage":"c","job":"sum","parameters":{},"seed":1,"attempt":1,"parentArtifact":{"hash":"\#(first.hash)","size":3,"name":"a.bin"}}"#
        let decoded = try WireEnvelope(type: .lease, payload: [Data(old.utf8)]).body(LeaseMessage.self)
        XCTAssertEqual(decoded.parentArtifact, first)
        XCTAssertNil(decoded.parentArtifacts)
    }

    func testMalformedHeadersAreRejectedWithTheirReason() {
        let good = WireEnvelope(type: .heartbeat, requestID: 9, payload: [Data("x".utf8)]).frames()
        XCTAssertThrowsError(try WireEnvelope.decode([Data()][...])) { XCTAssertEqual($0 as? WireError, .headerTooShort(0)) }
        var badMagic = good; badMagic[0][0] = 0x51
        XCTAssertThrowsError(try WireEnvelope.decode(badMagic[...])) { XCTAssertEqual($0 as? WireError, .badMagic) }
        var version = good; version[0][2] = 2
        XCTAssertThrowsError(try WireEnvelope.decode(version[...])) { XCTAssertEqual($0 as? WireError, .unsupportedVersion(2)) }
        var type = good; type[0][3] = 200
        XCTAssertThrowsError(try WireEnvelope.decode(type[...])) { XCTAssertEqual($0 as? WireError, .unknownType(200)) }
        XCTAssertThrowsError(try WireEnvelope.decode(good.prefix(1))) {
            XCTAssertEqual($0 as? WireError, .frameCountMismatch(declared: 1, actual: 0))
        }
        var length = good; length[1] = Data("xy".utf8)
        XCTAssertThrowsError(try WireEnvelope.decode(length[...])) {
            XCTAssertEqual($0 as? WireError, .frameLengthMismatch(index: 0, declared: 1, actual: 2))
        }
        XCTAssertEqual(WireError.unsupportedVersion(9).counterKey, "wrong_version")
    }

    func testUndecodableBodyIsABadPayload() {
        let envelope = WireEnvelope(type: .ready, payload: [Data("{\"slots\": \"many\"}".utf8)])
        XCTAssertThrowsError(try envelope.body(ReadyMessage.self)) {
            guard case .badPayload(.ready, _)? = $0 as? WireError else { return XCTFail("\($0)") }
        }
    }

    /// Seeded random headers never crash the decoder; each one is accepted or rejected.
    func testRandomBytesNeverCrashTheDecoder() {
        var generator = SplitMix64(seed: 7)
        var rejected = 0
        for _ in 0..<5000 {
            let frames = (0..<Int(generator.next() % 4 + 1)).map { _ in
                Data((0..<Int(generator.next() % 40)).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            }
            if (try? WireEnvelope.decode(frames[...])) == nil { rejected += 1 }
        }
        XCTAssertEqual(rejected, 5000)
    }
}
