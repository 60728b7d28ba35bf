import Foundation

/// Reading dataset files from disk, inflating gzip ones.
enum DatasetFile {
    /// The bytes of the file at `path`; inflated when the file is gzip (decided by its
    /// magic, not its name, so `train-images-idx3-ubyte` that is secretly gzip still works).
    static func read(_ path: String) throws -> [UInt8] {
        let raw = try readRaw(path)
        return Gzip.isCompressed(raw) ? try Gzip.decompress(raw, path: path) : raw
    }

    /// The file's bytes exactly as stored.
    static func readRaw(_ path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw DatasetError.unreadableFile(path: path, reason: exists ? "permission denied" : "no such file")
        }
        defer { try? handle.close() }
        do {
            return [UInt8](try handle.readToEnd() ?? Data())
        } catch {
            throw DatasetError.unreadableFile(path: path, reason: "\(error)")
        }
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// Names of the entries of a directory, sorted, hidden ones left out.
    static func entries(of directory: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw DatasetError.unreadableFile(path: directory, reason: "cannot list directory: \(error.localizedDescription)")
        }
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
