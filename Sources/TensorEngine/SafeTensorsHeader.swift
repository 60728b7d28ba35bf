import Foundation

/// The header of a safetensors file, read and checked before any tensor is built: where each
/// tensor's bytes are, in which dtype and shape. Every offset and size is checked against the
/// file (with overflow checks: this module is built -Ounchecked, where a plain product silently
/// wraps and a huge shape "needs 0 bytes"), so `SafeTensors.decode` only copies. Foundation
/// only, so scripts/fuzz builds it with `TensorError` alone.
struct SafeTensorsHeader {
    struct Entry {
        var name: String
        var dtype: String
        var shape: [Int]
        /// Elements (the product of `shape`) and bytes per element.
        var count: Int
        var width: Int
        /// Where the tensor's bytes are in the file's data: exactly `count * width` of them.
        var bytes: Range<Data.Index>
    }

    /// In file order (by offset, then name).
    var entries: [Entry]
    var metadata: [String: String]

    static let byteWidth = ["F32": 4, "F64": 8, "I64": 8]

    static func read(_ data: Data, path: String) throws -> SafeTensorsHeader {
        func fail(_ tensor: String?, _ reason: String) -> TensorError { .checkpoint(path: path, tensor: tensor, reason: reason) }
        guard data.count >= 8 else { throw fail(nil, "file is \(data.count) bytes, too short for a safetensors header") }
        let headerLength = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail(nil, "header length \(headerLength) exceeds the file size \(data.count) (truncated or not safetensors)")
        }
        let bodyStart = data.startIndex + 8 + Int(headerLength)
        guard let header = (try? JSONSerialization.jsonObject(with: data[(data.startIndex + 8)..<bodyStart])) as? [String: Any] else {
            throw fail(nil, "header is not a JSON object")
        }
        let bodyCount = data.endIndex - bodyStart
        var metadata: [String: String] = [:]
        if let meta = header["__metadata__"] {
            guard let dict = meta as? [String: String] else { throw fail(nil, "__metadata__ must map strings to strings") }
            metadata = dict
        }
        var entries: [Entry] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail(name, "entry needs dtype, shape and data_offsets")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard shape.allSatisfy({ $0 >= 0 }), begin >= 0, begin <= end else { throw fail(name, "invalid shape \(shape) or offsets \(offsets)") }
            guard end <= bodyCount else {
                throw fail(name, "data ends at byte \(end) but the file holds \(bodyCount) data bytes (truncated)")
            }
            guard let width = byteWidth[dtype] else { throw fail(name, "dtype \(dtype) is not supported (F32, F64, I64 are)") }
            guard let count = elementCount(shape), case let (needed, overflow) = count.multipliedReportingOverflow(by: width), !overflow else {
                throw fail(name, "shape \(shape) has more elements than fit in memory")
            }
            guard end - begin == needed else { throw fail(name, "shape \(shape) needs \(needed) bytes, has \(end - begin)") }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, count: count, width: width, bytes: (bodyStart + begin)..<(bodyStart + end)))
        }
        entries.sort { ($0.bytes.lowerBound, $0.name) < ($1.bytes.lowerBound, $1.name) }
        return SafeTensorsHeader(entries: entries, metadata: metadata)
    }

    /// The product of `shape`, nil when it overflows.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            if overflow { return nil }
            count = product
        }
        return count
    }
}
