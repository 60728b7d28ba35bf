import Foundation

/// The safetensors format (the Hugging Face checkpoint format PyTorch users load with
/// `safetensors.torch.load_file`): an 8-byte little-endian header length, a JSON header
/// `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}`,
/// then the raw little-endian tensor bytes.
public struct SafeTensorsFile {
    /// Tensors in file order.
    public var tensors: [(String, Tensor)]
    public var metadata: [String: String]

    public init(tensors: [(String, Tensor)], metadata: [String: String] = [:]) {
        (self.tensors, self.metadata) = (tensors, metadata)
    }

    public subscript(name: String) -> Tensor? { tensors.first { $0.0 == name }?.1 }
}

public enum SafeTensors {
    /// Writes atomically: a reader never sees a half-written checkpoint under `path`.
    public static func write(_ file: SafeTensorsFile, to path: String) throws {
        let data = try encode(file)
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).partial")
        do {
            try data.write(to: temporary)
            // rename(2) replaces an existing file atomically. FileManager.replaceItemAt on Linux
            // failed when the file existed and left neither the old checkpoint nor the new one.
            guard rename(temporary.path, path) == 0 else {
                throw NSError(domain: NSPOSIXErrorDomain, code: Int(errno),
                              userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw TensorError.checkpoint(path: path, tensor: nil, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    public static func read(_ path: String) throws -> SafeTensorsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TensorError.checkpoint(path: path, tensor: nil, reason: "cannot read the file (missing or unreadable)")
        }
        return try decode(data, path: path)
    }

    public static func encode(_ file: SafeTensorsFile) throws -> Data {
        var header = "{"
        var entries: [String] = []
        if !file.metadata.isEmpty {
            let pairs = file.metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(file.metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, t) in file.tensors {
            let bytes = t.count * 4
            entries.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        header += entries.joined(separator: ",") + "}"
        // Pad the header with spaces so the data starts 8-byte aligned (as the reference writer does).
        while header.utf8.count % 8 != 0 { header += " " }
        var data = Data(capacity: 8 + header.utf8.count + offset)
        var length = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        for (_, t) in file.tensors {
            // Float32 in memory is little-endian on every platform Swift on Linux runs on.
            data.append(UnsafeBufferPointer(start: t.pointer, count: t.count))
        }
        return data
    }

    public static func decode(_ data: Data, path: String) throws -> SafeTensorsFile {
        func fail(_ tensor: String?, _ reason: String) -> TensorError { .checkpoint(path: path, tensor: tensor, reason: reason) }
        guard data.count >= 8 else { throw fail(nil, "file is \(data.count) bytes, too short for a safetensors header") }
        let headerLength = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail(nil, "header length \(headerLength) exceeds the file size \(data.count) (truncated or not safetensors)")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        guard let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw fail(nil, "header is not a JSON object")
        }
        let body = data.subdata(in: (8 + Int(headerLength))..<data.count)
        var metadata: [String: String] = [:]
        if let meta = header["__metadata__"] {
            guard let dict = meta as? [String: String] else { throw fail(nil, "__metadata__ must map strings to strings") }
            metadata = dict
        }
        var entries: [(begin: Int, name: String, tensor: Tensor)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail(name, "entry needs dtype, shape and data_offsets")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard shape.allSatisfy({ $0 >= 0 }), begin >= 0, begin <= end else { throw fail(name, "invalid shape \(shape) or offsets \(offsets)") }
            guard end <= body.count else {
                throw fail(name, "data ends at byte \(end) but the file holds \(body.count) data bytes (truncated)")
            }
            // Counted with overflow checks (this module is built -Ounchecked, where a plain
            // product silently wraps and a huge shape "needs 0 bytes").
            guard let count = Self.elementCount(shape), let width = Self.byteWidth[dtype],
                  case let (needed, overflow) = count.multipliedReportingOverflow(by: width), !overflow else {
                if Self.byteWidth[dtype] == nil { throw fail(name, "dtype \(dtype) is not supported (F32, F64, I64 are)") }
                throw fail(name, "shape \(shape) has more elements than fit in memory")
            }
            let bytes = body[body.startIndex + begin ..< body.startIndex + end]
            guard bytes.count == needed else { throw fail(name, "shape \(shape) needs \(needed) bytes, has \(bytes.count)") }
            let tensor: Tensor
            switch dtype {
            case "F32":
                tensor = Tensor(shape: shape) { out in
                    bytes.withUnsafeBytes { raw in
                        for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
                    }
                }
            case "F64":
                tensor = Tensor(shape: shape) { out in
                    bytes.withUnsafeBytes { raw in
                        for i in 0..<count { out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))) }
                    }
                }
            case "I64":
                // Integer tensors (PyTorch's num_batches_tracked) are read as values; models ignore them.
                tensor = Tensor(shape: shape) { out in
                    bytes.withUnsafeBytes { raw in
                        for i in 0..<count { out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))) }
                    }
                }
            default:
                throw fail(name, "dtype \(dtype) is not supported (F32, F64, I64 are)")
            }
            entries.append((begin, name, tensor))
        }
        entries.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        return SafeTensorsFile(tensors: entries.map { ($0.name, $0.tensor) }, metadata: metadata)
    }

    static let byteWidth = ["F32": 4, "F64": 8, "I64": 8]

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

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
