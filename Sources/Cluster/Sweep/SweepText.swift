import Foundation

/// Reading a sweep file's bytes as text, so that a file that is not UTF-8 is reported with the
/// byte at fault instead of Foundation's "isn't in the correct format" at line 0.
enum SweepText {
    static func read(_ url: URL, limits: SweepLimits) throws -> String {
        let path = url.path
        // Refuse a huge file before reading it into memory.
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber,
           size.int64Value > Int64(limits.maxFileBytes) {
            throw SweepError(file: path, line: 1, column: 1, key: "(file)",
                             problem: "is \(size.int64Value) bytes; sweep files may hold at most \(limits.maxFileBytes)")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SweepError(file: path, line: 1, column: 1, key: "(file)", problem: "cannot read: \(error.localizedDescription)")
        }
        guard data.count <= limits.maxFileBytes else {
            throw SweepError(file: path, line: 1, column: 1, key: "(file)",
                             problem: "is \(data.count) bytes; sweep files may hold at most \(limits.maxFileBytes)")
        }
        return try decode([UInt8](data), file: path)
    }

    /// The bytes as a String, or an error naming the first byte that is not UTF-8 (its
    /// offset, and the line and column it falls on).
    static func decode(_ bytes: [UInt8], file: String) throws -> String {
        guard let offset = firstInvalidUTF8(bytes) else { return String(decoding: bytes, as: UTF8.self) }
        let before = bytes[..<offset]
        let line = 1 + before.lazy.filter { $0 == UInt8(ascii: "\n") }.count
        let column = offset - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
        throw SweepError(file: file, line: line, column: column, key: "(file)",
                         problem: "not UTF-8 text: byte \(offset) (0x\(String(bytes[offset], radix: 16, uppercase: true))) starts no valid character")
    }

    /// Offset of the first byte of the first invalid UTF-8 sequence, nil when all is valid.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case let .valid(scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
