import Foundation

/// What a ring message is for. The byte is on the wire (docs/PROTOCOL.md, "Ring all-reduce").
enum RingMessageKind: UInt8, Sendable {
    /// First message to the right neighbour: who we are, which ring (session) we belong to.
    case hello = 1
    /// The right neighbour's answer to `hello`: the link is up both ways.
    case welcome = 2
    case heartbeat = 3
    /// A piece of a sum (reduce-scatter or all-gather), Float32 little-endian payload.
    case data = 4
    /// A piece of an all-gather of bytes (parameter checksums).
    case gather = 5
    /// The sender failed; the payload is the reason (UTF-8). Forwarded around the ring.
    case abort = 6
    /// The sender closed its ring after its last operation, on purpose.
    case bye = 7
}

/// The fixed 32-byte header (frame 0) of every ring message, big-endian:
///
///     0  "RA"   2  version u8   3  kind u8   4  sender rank u16   6  world size u16
///     8  step u64   16  bucket u32   20  chunk u32 (message index within the operation)
///     24 payload bytes u32   28 session tag u32
///
/// `step` and `bucket` name the collective operation, `chunk` numbers its messages, so a frame
/// that is stale (an earlier step), out of order or from another ring (session) is caught
/// before its payload is touched.
struct RingHeader: Equatable, Sendable {
    static let size = 32
    static let magic: [UInt8] = [0x52, 0x41] // "RA"
    static let version: UInt8 = 1

    var kind: RingMessageKind
    var sender: Int
    var worldSize: Int
    var step: UInt64 = 0
    var bucket: UInt32 = 0
    var chunk: UInt32 = 0
    var payloadBytes: Int = 0
    var session: UInt32

    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes[0] = Self.magic[0]; bytes[1] = Self.magic[1]
        bytes[2] = Self.version
        bytes[3] = kind.rawValue
        func put(_ value: UInt64, at offset: Int, width: Int) {
            for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * (width - 1 - i))) }
        }
        put(UInt64(sender), at: 4, width: 2)
        put(UInt64(worldSize), at: 6, width: 2)
        put(step, at: 8, width: 8)
        put(UInt64(bucket), at: 16, width: 4)
        put(UInt64(chunk), at: 20, width: 4)
        put(UInt64(payloadBytes), at: 24, width: 4)
        put(UInt64(session), at: 28, width: 4)
        return bytes
    }

    /// Parses and checks a header frame; the reason says what is wrong with it.
    static func decode(_ frame: UnsafeRawBufferPointer) throws -> RingHeader {
        guard frame.count == size else { throw RingFrameError("header of \(frame.count) bytes, expected \(size)") }
        guard frame[0] == magic[0], frame[1] == magic[1] else { throw RingFrameError("header does not start with \"RA\"") }
        guard frame[2] == version else { throw RingFrameError("ring protocol version \(frame[2]), this build speaks \(version)") }
        guard let kind = RingMessageKind(rawValue: frame[3]) else { throw RingFrameError("unknown message kind \(frame[3])") }
        func get(_ offset: Int, _ width: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<width { value = value << 8 | UInt64(frame[offset + i]) }
            return value
        }
        return RingHeader(kind: kind, sender: Int(get(4, 2)), worldSize: Int(get(6, 2)), step: get(8, 8),
                          bucket: UInt32(get(16, 4)), chunk: UInt32(get(20, 4)), payloadBytes: Int(get(24, 4)),
                          session: UInt32(get(28, 4)))
    }

    /// FNV-1a of the session name: frames of another ring (another trial or attempt) do not match.
    static func sessionTag(_ session: String) -> UInt32 {
        var hash: UInt32 = 0x811C_9DC5
        for byte in session.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return hash
    }
}

struct RingFrameError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
