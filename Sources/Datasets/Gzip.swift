import CZlib

/// gzip through the system zlib: dataset files ship gzip-compressed (IDX, digits.csv.gz)
/// and spawning gunzip would make loading depend on a program being on PATH.
enum Gzip {
    /// Whether `bytes` start with the gzip magic 1f 8b.
    static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Inflates every gzip member of `compressed` (concatenated members are legal gzip).
    /// `path` only names the file in errors.
    static func decompress(_ compressed: [UInt8], path: String) throws -> [UInt8] {
        // The trailer's ISIZE (size mod 2^32 of the last member) is a good first guess, but a
        // truncated file ends in arbitrary bytes: never trust it beyond deflate's maximum
        // ratio (about 1032:1), or a cut file would allocate gigabytes before failing.
        var capacity = compressed.count * 4
        if compressed.count >= 4 {
            let n = compressed.count
            let isize = Int(compressed[n - 4]) | Int(compressed[n - 3]) << 8 | Int(compressed[n - 2]) << 16 | Int(compressed[n - 1]) << 24
            capacity = max(capacity, min(isize, compressed.count * 1032))
        }
        var output = [UInt8](repeating: 0, count: max(capacity, 1024))
        var produced = 0
        var stream = z_stream()
        // 15 + 16: a gzip wrapper (not raw deflate or zlib).
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError.corruptCompressedFile(path: path, reason: "zlib inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        try compressed.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = UInt32(input.count)
            while true {
                if produced == output.count { output.append(contentsOf: [UInt8](repeating: 0, count: output.count)) }
                let status: Int32 = output.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = UInt32(min(out.count - produced, Int(UInt32.max)))
                    let before = stream.avail_out
                    let status = inflate(&stream, Z_NO_FLUSH)
                    produced += Int(before - stream.avail_out)
                    return status
                }
                switch status {
                case Z_STREAM_END:
                    if stream.avail_in == 0 { return }
                    // Another member follows; skip trailing zero padding some tools add.
                    let remaining = UnsafeBufferPointer(start: stream.next_in, count: Int(stream.avail_in))
                    if remaining.allSatisfy({ $0 == 0 }) { return }
                    guard inflateReset(&stream) == Z_OK else {
                        throw DatasetError.corruptCompressedFile(path: path, reason: "cannot start the next gzip member")
                    }
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_out > 0:
                    throw DatasetError.corruptCompressedFile(path: path, reason: "unexpected end of compressed data after \(produced) bytes")
                case Z_BUF_ERROR:
                    continue
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw DatasetError.corruptCompressedFile(path: path, reason: message)
                }
            }
        }
        output.removeSubrange(produced...)
        return output
    }

    /// Compresses `bytes` as one gzip member (used to write fixtures and cached files).
    static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        let status = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "zlib deflateInit2 failed: \(status)")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        let written: Int = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = UInt32(input.count)
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                let result = deflate(&stream, Z_FINISH)
                precondition(result == Z_STREAM_END, "zlib deflate did not finish: \(result)")
                return out.count - Int(stream.avail_out)
            }
        }
        output.removeSubrange(written...)
        return output
    }
}
