import Foundation

/// The worker public keys a coordinator admits, read from a directory of `*.key` files
/// (one Z85 public key each; the file name, without `.key`, names the worker in logs).
/// `secret.key` is never read, so a key directory can double as its own allow-list.
public struct CurveAllowList {
    /// 32-byte binary key -> name
    public let names: [Data: String]

    public init(names: [Data: String]) { self.names = names }

    public init(directory: URL) throws {
        let files: [String]
        do { files = try FileManager.default.contentsOfDirectory(atPath: directory.path) } catch {
            throw CurveKeyError.unreadable(path: directory.path, reason: "cannot list the allow-list directory")
        }
        var names: [Data: String] = [:]
        for file in files.sorted() where file.hasSuffix(".key") && file != CurveKeyPair.secretFileName {
            let url = directory.appendingPathComponent(file)
            let key = try CurveKeyPair.readKey(url)
            names[Z85.decode(key)!] = String(file.dropLast(4))
        }
        self.names = names
    }

    public func name(of binaryKey: Data) -> String? { names[binaryKey] }
}
