import Foundation
import XCTest
@testable import Cluster

final class ArtifactVaultTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-vault-\(UUID().uuidString)")
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    private func chunks(_ bytes: Data, size: Int, hash: String? = nil) -> [(ArtifactChunkMessage, Data)] {
        let digest = hash ?? SHA256.hex(bytes)
        let count = max(1, (bytes.count + size - 1) / size)
        return (0..<count).map { index in
            let part = bytes[(index * size)..<min(bytes.count, (index + 1) * size)]
            return (ArtifactChunkMessage(hash: digest, name: "a", totalSize: bytes.count, index: index, count: count, trialID: "t"), Data(part))
        }
    }

    private func sample(_ n: Int) -> Data {
        var generator = SplitMix64(seed: 5)
        return Data((0..<n).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
    }

    func testChunksAssembleAndAreAdmittedOnlyWithTheRightHash() throws {
        let vault = try ArtifactVault(directory: directory)
        let bytes = sample(10_000)
        let parts = chunks(bytes, size: 3000)
        for (index, (meta, data)) in parts.enumerated() {
            XCTAssertEqual(try vault.receive(meta, bytes: data, from: Data([1])), index == parts.count - 1)
        }
        XCTAssertEqual(try Data(contentsOf: vault.url(for: SHA256.hex(bytes))), bytes)

        // Right sizes, wrong digest: rejected and nothing is left behind.
        let lie = String(repeating: "ab", count: 32)
        let forged = chunks(sample(5000), size: 3000, hash: lie)
        XCTAssertFalse(try vault.receive(forged[0].0, bytes: forged[0].1, from: Data([2])))
        XCTAssertThrowsError(try vault.receive(forged[1].0, bytes: forged[1].1, from: Data([2]))) {
            XCTAssertTrue("\($0)".contains("hash check failed"), "\($0)")
        }
        XCTAssertFalse(vault.has(lie))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent(".incoming").path), [])
    }

    /// Two workers that produce identical bytes upload the same hash at the same time.
    func testInterleavedUploadsOfTheSameContentFromTwoPeersBothSucceed() throws {
        let vault = try ArtifactVault(directory: directory)
        let bytes = sample(9000)
        let parts = chunks(bytes, size: 3000)
        for (index, (meta, data)) in parts.enumerated() {
            XCTAssertEqual(try vault.receive(meta, bytes: data, from: Data([1])), index == parts.count - 1)
            XCTAssertEqual(try vault.receive(meta, bytes: data, from: Data([2])), index == parts.count - 1)
        }
        XCTAssertEqual(try Data(contentsOf: vault.url(for: SHA256.hex(bytes))), bytes)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent(".incoming").path), [])
    }

    func testOutOfOrderAndOversizedUploadsAreRejected() throws {
        let vault = try ArtifactVault(directory: directory)
        let parts = chunks(sample(9000), size: 3000)
        XCTAssertFalse(try vault.receive(parts[0].0, bytes: parts[0].1, from: Data([1])))
        XCTAssertThrowsError(try vault.receive(parts[2].0, bytes: parts[2].1, from: Data([1]))) {
            XCTAssertTrue("\($0)".contains("out of order"), "\($0)")
        }
        var big = parts[0]
        big.0.totalSize = 10
        XCTAssertThrowsError(try vault.receive(big.0, bytes: big.1, from: Data([1]))) {
            XCTAssertTrue("\($0)".contains("more bytes"), "\($0)")
        }
        var bad = parts[0]
        bad.0.hash = "../../etc/passwd"
        XCTAssertThrowsError(try vault.receive(bad.0, bytes: bad.1, from: Data([1])), "a hash that is not 64 hex digits never names a file")
        bad.0.hash = "../" + String(repeating: "a", count: 61)
        XCTAssertThrowsError(try vault.receive(bad.0, bytes: bad.1, from: Data([1])))
        XCTAssertFalse(SHA256.isDigest(String(repeating: "A", count: 64)))
        XCTAssertTrue(SHA256.isDigest(SHA256.hex(Data())))
    }
}
