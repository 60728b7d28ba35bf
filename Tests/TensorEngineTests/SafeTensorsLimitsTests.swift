import Foundation
import XCTest
@testable import TensorEngine

/// Shapes whose size overflows (issue 13): this module is built -Ounchecked, where a plain
/// product wraps, and such a tensor was reported as "needs 0 bytes".
final class SafeTensorsLimitsTests: XCTestCase {
    private func file(header: String, body: Int = 0) -> Data {
        var data = Data()
        var length = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        data.append(Data(count: body))
        return data
    }

    func testAShapeWhoseElementCountOverflowsIsAnError() {
        // 2^62 x 4 elements wraps to 0 in 64 bits.
        let data = file(header: #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#)
        XCTAssertThrowsError(try SafeTensors.decode(data, path: "wrap.safetensors")) { error in
            XCTAssertEqual("\(error)", "checkpoint wrap.safetensors: tensor 'w': shape [4611686018427387904, 4] has more elements than fit in memory")
        }
    }

    func testAShapeWhoseByteCountOverflowsIsAnError() {
        // 2^62 elements fit in an Int; their 2^64 bytes do not.
        let data = file(header: #"{"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}"#)
        XCTAssertThrowsError(try SafeTensors.decode(data, path: "wrap.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("tensor 'w': shape [4611686018427387904] has more elements than fit in memory"), "\(error)")
        }
    }

    func testAnUnsupportedDtypeIsStillNamed() {
        let data = file(header: #"{"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#, body: 4)
        XCTAssertThrowsError(try SafeTensors.decode(data, path: "x.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("dtype BF16 is not supported"), "\(error)")
        }
    }

    func testASizeMismatchNamesTheRealByteCount() {
        let data = file(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, body: 8)
        XCTAssertThrowsError(try SafeTensors.decode(data, path: "x.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("shape [3] needs 12 bytes, has 8"), "\(error)")
        }
    }
}
