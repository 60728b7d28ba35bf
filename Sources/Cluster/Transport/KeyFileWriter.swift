import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes key files so that a secret is never readable by anyone else at any moment: the
/// directory is made (or narrowed to) 0700 first, each file is created 0600 with
/// O_CREAT|O_EXCL under a 077 umask as a temporary name in that directory, written, synced,
/// and renamed over the final name. Foundation's atomic write instead creates a 0666-minus-
/// umask temporary file and the mode could only be narrowed after the rename.
enum KeyFileWriter {
    static func prepareDirectory(_ directory: URL) throws {
        try FileManager.default.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
        if mkdir(directory.path, 0o700) != 0 && errno != EEXIST {
            throw failure(directory.path, "cannot create the key directory")
        }
        var status = stat()
        guard lstat(directory.path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw CurveKeyError.unwritable(path: directory.path, reason: "is not a directory")
        }
        // An existing directory may be wider (0755): narrow it before a secret goes in.
        if status.st_mode & 0o077 != 0, chmod(directory.path, 0o700) != 0 {
            throw failure(directory.path, "cannot restrict the key directory to 0700")
        }
    }

    /// Writes `text` to `url` with exactly `mode`, replacing any file there in one rename.
    static func write(_ text: String, to url: URL, mode: mode_t) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp").path
        let previous = umask(0o077)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        umask(previous)
        guard fd >= 0 else { throw failure(temporary, "cannot create") }
        var written = true
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { written = false; return }
                offset += n
            }
        }
        // fchmod: the umask can only narrow the mode; make it exactly `mode` (0644 for a public key).
        let finished = written && fchmod(fd, mode) == 0 && fsync(fd) == 0
        let closed = close(fd) == 0
        guard finished, closed, rename(temporary, url.path) == 0 else {
            let error = failure(url.path, "cannot write")
            unlink(temporary)
            throw error
        }
    }

    private static func failure(_ path: String, _ what: String) -> CurveKeyError {
        .unwritable(path: path, reason: "\(what): \(String(cString: strerror(errno)))")
    }
}
