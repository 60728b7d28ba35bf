import CCrypto
import Foundation

/// SHA-256 from libcrypto (OpenSSL's EVP interface): artifacts are content-addressed by it and
/// every chunked transfer is checked against it, so its speed is paid on every checkpoint that
/// moves. A value type like the rest of the protocol: copying a hasher mid-stream and updating
/// both copies gives two independent digests (the context is copied on write).
public struct SHA256 {
    private var context: Context

    /// Owns one EVP_MD_CTX.
    private final class Context {
        let pointer: OpaquePointer

        init() {
            guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
                fatalError("libcrypto could not set up SHA-256")
            }
            pointer = context
        }

        init(copying other: Context) {
            guard let context = EVP_MD_CTX_new(), EVP_MD_CTX_copy_ex(context, other.pointer) == 1 else {
                fatalError("libcrypto could not copy a SHA-256 context")
            }
            pointer = context
        }

        deinit { EVP_MD_CTX_free(pointer) }
    }

    public init() { context = Context() }

    public mutating func update(_ data: Data) {
        data.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context) }
        EVP_DigestUpdate(context.pointer, base, bytes.count)
    }

    /// The 32-byte digest; the hasher starts over afterwards.
    public mutating func finalize() -> Data {
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context) }
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context.pointer, &digest, &length)
        EVP_DigestInit_ex(context.pointer, EVP_sha256(), nil)
        return Data(digest.prefix(Int(length)))
    }

    public static func hash(_ data: Data) -> Data {
        var hasher = SHA256()
        hasher.update(data)
        return hasher.finalize()
    }

    public static func hex(_ data: Data) -> String { hash(data).hexString }

    public static func isDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

extension Data {
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](); out.reserveCapacity(count * 2)
        for byte in self { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 0xf)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
