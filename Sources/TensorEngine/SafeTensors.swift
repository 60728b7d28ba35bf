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
        let header = try SafeTensorsHeader.read(data, path: path)
        let tensors = header.entries.map { entry -> (String, Tensor) in
            // The header checked that `entry.bytes` holds exactly `count` elements of the dtype.
            let (count, bytes) = (entry.count, data[entry.bytes])
            let tensor: Tensor
            switch entry.dtype {
            case "F64":
                tensor = Tensor(shape: entry.shape) { out in
                    bytes.withUnsafeBytes { raw in
                        for i in 0..<count { out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))) }
                    }
                }
            case "I64":
                // Integer tensors (PyTorch's num_batches_tracked) are read as values; models ignore them.
                tensor = Tensor(shape: entry.shape) { out in
                    bytes.withUnsafeBytes { raw in
                        for i in 0..<count { out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))) }
                    }
                }
            default: // F32, the only other dtype the header admits
                tensor = Tensor(shape: entry.shape) { out in
                    bytes.withUnsafeBytes { raw in
                        for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
                    }
                }
            }
            return (entry.name, tensor)
        }
        return SafeTensorsFile(tensors: tensors, metadata: header.metadata)
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
