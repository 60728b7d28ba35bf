import Foundation

/// Why a received message was dropped before use. Counted per reason and logged with the peer.
public enum WireError: Error, Equatable, CustomStringConvertible {
    case noFrames
    case headerTooShort(Int)
    case badMagic
    case unsupportedVersion(UInt8)
    case unknownType(UInt8)
    case frameCountMismatch(declared: Int, actual: Int)
    case frameLengthMismatch(index: Int, declared: Int, actual: Int)
    case tooManyFrames(Int)
    case badPayload(type: MessageType, reason: String)
    case wrongDirection(MessageType)

    public var description: String {
        switch self {
        case .noFrames: return "empty message"
        case let .headerTooShort(n): return "header frame of \(n) bytes is shorter than \(WireEnvelope.fixedHeaderSize)"
        case .badMagic: return "header does not start with \"RT\""
        case let .unsupportedVersion(v): return "protocol version \(v), this build speaks \(WireEnvelope.protocolVersion)"
        case let .unknownType(t): return "unknown message type \(t)"
        case let .frameCountMismatch(d, a): return "header declares \(d) payload frames, message has \(a)"
        case let .frameLengthMismatch(i, d, a): return "payload frame \(i) declared \(d) bytes, has \(a)"
        case let .tooManyFrames(n): return "\(n) payload frames exceed the limit of \(WireEnvelope.maxPayloadFrames)"
        case let .badPayload(type, reason): return "\(type) payload: \(reason)"
        case let .wrongDirection(type): return "\(type) is not accepted in this direction"
        }
    }

    /// Short stable key for the drop counters in `rt status`.
    public var counterKey: String {
        switch self {
        case .unsupportedVersion: return "wrong_version"
        case .wrongDirection: return "wrong_direction"
        case .badPayload: return "bad_payload"
        default: return "malformed"
        }
    }
}

/// The versioned envelope every message carries (docs/PROTOCOL.md):
///
///     frame 0 (header): "RT" | version u8 | type u8 | request id u64 BE | n u16 BE | n x length u32 BE
///     frames 1...n:     payload frames whose sizes must equal the declared lengths
///
/// The header is checked completely before any payload is looked at.
public struct WireEnvelope: Equatable {
    public static let protocolVersion: UInt8 = 1
    /// Compatible additions within `protocolVersion` (new optional JSON keys), announced in
    /// `register`. 2: leases carry `parentArtifacts` (trials with several parents). 3: leases
    /// carry a `token` that every report on the lease echoes. 4: `register` lists the job types
    /// the worker runs.
    public static let protocolRevision = 4
    /// The first revision that understands trials with several parents.
    static let severalParentsRevision = 2
    /// The first revision whose workers echo lease tokens; older ones are bound by connection.
    static let leaseTokenRevision = 3
    static let magic: [UInt8] = [0x52, 0x54] // "RT"
    static let fixedHeaderSize = 14
    /// A result's JSON body and its masks, one per attack and budget: 16 was too few for
    /// paper-core.yaml's suite (clean + 15 attack settings), so every such trial failed after training.
    public static let maxPayloadFrames = 64

    public var type: MessageType
    public var requestID: UInt64
    public var payload: [Data]

    public init(type: MessageType, requestID: UInt64 = 0, payload: [Data] = []) {
        self.type = type
        self.requestID = requestID
        self.payload = payload
    }

    public static func header(type: MessageType, requestID: UInt64, lengths: [Int], version: UInt8 = protocolVersion) -> Data {
        var header = Data(capacity: fixedHeaderSize + 4 * lengths.count)
        header.append(contentsOf: magic)
        header.append(version)
        header.append(type.rawValue)
        for shift in stride(from: 56, through: 0, by: -8) { header.append(UInt8(truncatingIfNeeded: requestID >> UInt64(shift))) }
        header.append(UInt8(truncatingIfNeeded: lengths.count >> 8))
        header.append(UInt8(truncatingIfNeeded: lengths.count))
        for length in lengths {
            let l = UInt32(length)
            header.append(contentsOf: [UInt8(l >> 24), UInt8(truncatingIfNeeded: l >> 16), UInt8(truncatingIfNeeded: l >> 8), UInt8(truncatingIfNeeded: l)])
        }
        return header
    }

    /// Header frame followed by the payload frames.
    public func frames() -> [Data] {
        [Self.header(type: type, requestID: requestID, lengths: payload.map(\.count))] + payload
    }

    /// Parses `frames` (without any routing frames). Every length is checked against the header.
    public static func decode(_ frames: ArraySlice<Data>) throws -> WireEnvelope {
        guard let header = frames.first else { throw WireError.noFrames }
        let bytes = [UInt8](header)
        guard bytes.count >= fixedHeaderSize else { throw WireError.headerTooShort(bytes.count) }
        guard bytes[0] == magic[0], bytes[1] == magic[1] else { throw WireError.badMagic }
        guard bytes[2] == protocolVersion else { throw WireError.unsupportedVersion(bytes[2]) }
        guard let type = MessageType(rawValue: bytes[3]) else { throw WireError.unknownType(bytes[3]) }
        var requestID: UInt64 = 0
        for i in 4..<12 { requestID = requestID << 8 | UInt64(bytes[i]) }
        let declared = Int(bytes[12]) << 8 | Int(bytes[13])
        guard declared <= maxPayloadFrames else { throw WireError.tooManyFrames(declared) }
        let payload = Array(frames.dropFirst())
        guard payload.count == declared, bytes.count == fixedHeaderSize + 4 * declared else {
            throw WireError.frameCountMismatch(declared: declared, actual: payload.count)
        }
        for (index, frame) in payload.enumerated() {
            let o = fixedHeaderSize + 4 * index
            let length = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            guard length == frame.count else {
                throw WireError.frameLengthMismatch(index: index, declared: length, actual: frame.count)
            }
        }
        return WireEnvelope(type: type, requestID: requestID, payload: payload)
    }
}
