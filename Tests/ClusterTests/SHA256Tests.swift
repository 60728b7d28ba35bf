import Foundation
import XCTest
@testable import Cluster

final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(SHA256.hex(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Feeding the bytes in uneven pieces must give the same digest as one piece.
    func testIncrementalUpdatesMatchOneShot() {
        var generator = SplitMix64(seed: 42)
        let bytes = Data((0..<10_007).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        var hasher = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 127, 1000, 3, 8000] where offset < bytes.count {
            let end = min(bytes.count, offset + size)
            hasher.update(bytes[offset..<end])
            offset = end
        }
        hasher.update(bytes[offset...])
        XCTAssertEqual(hasher.finalize(), SHA256.hash(bytes))
    }

    /// A copy taken mid-stream is a hasher of its own (value semantics over libcrypto's context).
    func testACopyMidStreamHashesOnItsOwn() {
        var first = SHA256()
        first.update(Data("abc".utf8))
        var second = first
        second.update(Data("def".utf8))
        XCTAssertEqual(first.finalize().hexString, SHA256.hex(Data("abc".utf8)))
        XCTAssertEqual(second.finalize().hexString, SHA256.hex(Data("abcdef".utf8)))
    }
}
