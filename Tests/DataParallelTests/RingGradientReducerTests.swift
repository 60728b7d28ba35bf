import Cluster
import Foundation
import XCTest
import TensorEngine
@testable import DataParallel

final class RingGradientReducerTests: XCTestCase {
    func testBucketsRunInReverseModelOrderAndPackWithTheWeight() throws {
        let params = try [4, 3, 5, 2].map { n in try Tensor(shape: [n], values: (0..<n).map { Float($0 + 1) }) }
        for p in params { p.grad = try Tensor(shape: p.shape, values: Array(repeating: 2, count: p.count)) }
        // 8 Floats per bucket: [p3 (2) + p2 (5)], [p1 (3) + p0 (4)] — the last layer goes first.
        let layout = GradientBuckets(parameters: params, bucketBytes: 8 * 4)
        XCTAssertEqual(layout.buckets.map { $0.parameters.map(ObjectIdentifier.init) },
                       [[params[3], params[2]], [params[1], params[0]]].map { $0.map(ObjectIdentifier.init) })
        XCTAssertEqual(layout.bucket(of: params[0]), 1)
        layout.pack(0, weight: 0.25)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: layout.buckets[0].buffer, count: 7)), Array(repeating: 0.5, count: 7))
        params[1].grad = nil
        layout.pack(1, weight: 1)
        layout.buckets[1].buffer[0] = 9
        layout.unpack(1)
        XCTAssertEqual(params[1].grad?.values, [9, 0, 0], "a missing gradient is sent as zeros and comes back")
        XCTAssertEqual(params[0].grad?.values, [2, 2, 2, 2])
        // A parameter bigger than a bucket gets its own.
        XCTAssertEqual(GradientBuckets(parameters: params, bucketBytes: 4).buckets.count, 4)
    }

    func testDivergedReplicasStopWithAChecksumError() throws {
        let rings = try (0..<2).map {
            try RingCommunicator(configuration: RingConfiguration(rank: $0, worldSize: 2, bind: "tcp://127.0.0.1:*", session: "checksum",
                                                                  heartbeat: HeartbeatSettings(interval: 0.2, liveness: 5)))
        }
        let endpoints = rings.map(\.boundEndpoint)
        let errors = onBothRanks { rank -> Error? in
            do {
                try rings[rank].connect(endpoints: endpoints)
                let reducer = RingGradientReducer(ring: rings[rank], settings: DataParallelSettings(checksumEvery: 2))
                let weight = try Tensor(shape: [3], values: [1, 2, rank == 0 ? 3 : 3.0001])
                try reducer.parametersUpdated([("w", weight)], iteration: 1) // not a checksum step
                try reducer.parametersUpdated([("w", weight)], iteration: 2)
                return nil
            } catch { return error }
        }
        for (rank, error) in errors.enumerated() {
            guard case let .checksumMismatch(iteration, checksums)? = error as? AllreduceError else { return XCTFail("rank \(rank): \(String(describing: error))") }
            XCTAssertEqual(iteration, 2)
            XCTAssertEqual(checksums.count, 2)
            XCTAssertNotEqual(checksums[0], checksums[1])
        }
        rings.forEach { $0.close() }
    }

    func onBothRanks<T>(_ body: @escaping (Int) -> T) -> [T] {
        var results: [T?] = [nil, nil]
        let lock = NSLock(), group = DispatchGroup()
        for rank in 0..<2 {
            group.enter()
            Thread { let r = body(rank); lock.lock(); results[rank] = r; lock.unlock(); group.leave() }.start()
        }
        group.wait()
        return results.map { $0! }
    }
}
