import Foundation
import XCTest
@testable import Cluster

/// The naive all-reduce that `rt bench allreduce --hosts` measures the ring against: it must
/// really sum (else the ring would be compared with something cheaper), over CurveZMQ.
extension RingAllreduceTests {
    func testStarAllreduceSumsOverCurveAndEndsAtTheBarrier() throws {
        let k = 3, count = 300_001 // several pieces of 64 KiB and an uneven last one
        let keys = try (0..<k).map { _ in try CurveKeyPair.generate() }
        let port = 20_000 + Int(getpid() % 20_000)
        let sums = try onEveryRank(k) { rank -> [Float] in
            let star = try StarAllreduce(rank: rank, worldSize: k, endpoint: "tcp://127.0.0.1:\(port)", keys: keys[rank],
                                         publicKeys: keys.map(\.publicKey), pieceBytes: 64 << 10, timeout: 20)
            defer { star.close() }
            var buffer = (0..<count).map { Float(rank + 1) * Float($0 % 7) }
            try buffer.withUnsafeMutableBufferPointer { try star.sum($0.baseAddress!, count: count) }
            try buffer.withUnsafeMutableBufferPointer { try star.sum($0.baseAddress!, count: count) } // twice: ops stay in step
            try star.barrier()
            return buffer
        }
        // 1 + 2 + 3 = 6 times the pattern after the first sum, 3 × 6 after the second (small integers: exact).
        let expected = (0..<count).map { Float(18 * ($0 % 7)) }
        for rank in 0..<k { XCTAssertEqual(sums[rank], expected, "rank \(rank)") }
    }
}
