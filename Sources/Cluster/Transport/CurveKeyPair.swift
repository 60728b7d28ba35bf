import CZeroMQ
import Foundation

public enum CurveKeyError: Error, CustomStringConvertible {
    case curveUnavailable
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .curveUnavailable: return "this libzmq was built without CurveZMQ (libsodium)"
        case let .unreadable(path, reason): return "\(path): cannot read key: \(reason)"
        case let .malformed(path, reason): return "\(path): not a Z85 CurveZMQ key: \(reason)"
        case let .unwritable(path, reason): return "\(path): \(reason)"
        }
    }
}

/// A CurveZMQ key pair in Z85 text (40 characters each), as zmq_curve_keypair makes them.
///
/// On disk a key directory holds `public.key` and `secret.key` (mode 0600), one Z85 line each.
/// Workers also keep the coordinator's public key there as `coordinator.key`.
public struct CurveKeyPair: Equatable, Sendable {
    public let publicKey: String
    public let secretKey: String

    public static let publicFileName = "public.key"
    public static let secretFileName = "secret.key"
    public static let coordinatorFileName = "coordinator.key"

    public init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    public static func generate() throws -> CurveKeyPair {
        guard ZMQContext.hasCurve else { throw CurveKeyError.curveUnavailable }
        var publicBuffer = [CChar](repeating: 0, count: 41)
        var secretBuffer = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicBuffer, &secretBuffer) == 0 else { throw ZMQError.last("zmq_curve_keypair") }
        return CurveKeyPair(publicKey: String(cString: publicBuffer), secretKey: String(cString: secretBuffer))
    }

    /// Writes `public.key` (0644) and `secret.key` (0600) into `directory`, created (or
    /// narrowed) to 0700; the secret is never readable by others at any moment (`KeyFileWriter`).
    public func write(to directory: URL) throws {
        try KeyFileWriter.prepareDirectory(directory)
        try KeyFileWriter.write(publicKey + "\n", to: directory.appendingPathComponent(Self.publicFileName), mode: 0o644)
        try KeyFileWriter.write(secretKey + "\n", to: directory.appendingPathComponent(Self.secretFileName), mode: 0o600)
    }

    public static func read(from directory: URL) throws -> CurveKeyPair {
        CurveKeyPair(publicKey: try readKey(directory.appendingPathComponent(publicFileName)),
                     secretKey: try readKey(directory.appendingPathComponent(secretFileName)))
    }

    /// Reads one Z85 key (the first line that is not empty or a `#` comment).
    public static func readKey(_ url: URL) throws -> String {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw CurveKeyError.unreadable(path: url.path, reason: "\(error.localizedDescription)")
        }
        guard let line = text.split(whereSeparator: \.isNewline)
            .map({ $0.trimmingCharacters(in: .whitespaces) })
            .first(where: { !$0.isEmpty && !$0.hasPrefix("#") }) else {
            throw CurveKeyError.malformed(path: url.path, reason: "file is empty")
        }
        guard Z85.decode(line)?.count == 32 else {
            throw CurveKeyError.malformed(path: url.path, reason: "expected 40 Z85 characters, got \(line.count)")
        }
        return line
    }
}

/// Z85 (ZeroMQ RFC 32) through libzmq's own codec.
public enum Z85 {
    public static func encode(_ bytes: Data) -> String? {
        guard bytes.count % 4 == 0 else { return nil }
        var out = [CChar](repeating: 0, count: bytes.count * 5 / 4 + 1)
        let ok = bytes.withUnsafeBytes { raw in
            zmq_z85_encode(&out, raw.bindMemory(to: UInt8.self).baseAddress, raw.count) != nil
        }
        return ok ? String(cString: out) : nil
    }

    public static func decode(_ text: String) -> Data? {
        guard text.utf8.count % 5 == 0, !text.isEmpty else { return nil }
        var out = [UInt8](repeating: 0, count: text.utf8.count * 4 / 5)
        guard zmq_z85_decode(&out, text) != nil else { return nil }
        return Data(out)
    }
}
