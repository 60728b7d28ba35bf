import CZlib

/// gzip through the system zlib: dataset files ship gzip-compressed (IDX, digits.csv.gz)
/// and spawning gunzip would make loading depend on a program being on PATH.
enum Gzip {
    /// Whether `bytes` start with the gzip magic 1f 8b.
    static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Output beyond what the trailer promises that is still accepted: slack for a file of
    /// several members, whose trailer describes only the last one (bgzip's are 64 KiB each).
    static let margin = 1 << 20
    /// No dataset file rt reads inflates to more than this (Fashion-MNIST's largest is 47 MB,
    /// CIFAR-100's training batch 150 MB). It is also what bounds a bomb made of many honest members.
    static let defaultMaximum = 512 << 20

    /// Inflates every gzip member of `compressed` (concatenated members are legal gzip).
    /// `path` only names the file in errors.
    ///
    /// Bounded before and during inflation: the trailer's ISIZE (the last member's size mod
    /// 2^32) is the promise; a file promising more than `maximum` is refused before anything
    /// is inflated (an honest 2 MB bomb of 2 GB of zeros), and inflating stops once the output
    /// passes the promise plus `margin` (a bomb whose trailer lies). When a member ends and
    /// another follows, zlib has checked that member's own length, so the promise grows by it.
    static func decompress(_ compressed: [UInt8], path: String, maximum: Int = defaultMaximum) throws -> [UInt8] {
        var promised = 0
        if compressed.count >= 4 {
            let n = compressed.count
            promised = Int(compressed[n - 4]) | Int(compressed[n - 3]) << 8 | Int(compressed[n - 2]) << 16 | Int(compressed[n - 1]) << 24
        }
        guard promised <= maximum else {
            throw DatasetError.corruptCompressedFile(path: path, reason: "its gzip trailer promises \(promised) bytes, more than the \(maximum) a dataset file may inflate to (a gzip bomb?)")
        }
        var limit = min(promised + margin, maximum)
        // The trailer is a good first guess for the buffer, but a truncated file ends in
        // arbitrary bytes: never trust it beyond deflate's maximum ratio (about 1032:1).
        let capacity = max(compressed.count * 4, min(promised, compressed.count * 1032))
        var output = [UInt8](repeating: 0, count: min(max(capacity, 1024), limit + 1))
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
                if produced > limit {
                    throw DatasetError.corruptCompressedFile(path: path, reason: "inflates past \(limit) bytes, more than its gzip trailer promises (\(promised) bytes); stopped there (a gzip bomb?)")
                }
                // Room for one byte past the limit, so crossing it is seen; never more.
                if produced == output.count { output.append(contentsOf: [UInt8](repeating: 0, count: min(output.count, limit + 1 - output.count))) }
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
                    limit = min(produced + promised + margin, maximum)
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
