import Foundation

public struct ArtifactError: Error, CustomStringConvertible {
    public var hash: String
    public var problem: String
    /// The vault's disk is full: the upload is lost through no fault of the sender.
    public var outOfSpace = false
    public var description: String { "artifact \(hash.prefix(16)): \(problem)" }
}

/// Content-addressed artifact files under `runs/<sweep>/artifacts/<sha256>`, assembled from
/// chunks that arrive in order on one connection and admitted only when the hash matches.
final class ArtifactVault {
    let directory: URL
    private let incoming: URL
    /// Keyed by hash *and* peer: two workers may upload the same content at the same time
    /// (identical outputs hash alike); each stream is assembled on its own.
    private var uploads: [UploadKey: Upload] = [:]

    private struct UploadKey: Hashable {
        var hash: String
        var peer: Data
    }

    private struct Upload {
        var handle: FileHandle
        var url: URL
        var expectedIndex: Int
        var received: Int
        var hasher: SHA256
        var lastChunk: Date
    }

    /// Open uploads per peer and in all (each holds a file descriptor), and how long one may
    /// wait for its next chunk: a peer that starts uploads and never finishes them cannot run
    /// the coordinator out of descriptors or disk.
    static let maxOpenPerPeer = 4
    static let maxOpenTotal = 64
    static let idleTimeout: TimeInterval = 120

    init(directory: URL) throws {
        self.directory = directory
        incoming = directory.appendingPathComponent(".incoming")
        try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: true)
        // Partial uploads from a killed coordinator are useless: the worker re-sends the whole artifact.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: incoming.path)) ?? [] {
            try? FileManager.default.removeItem(at: incoming.appendingPathComponent(name))
        }
    }

    func url(for hash: String) -> URL { directory.appendingPathComponent(hash) }
    func has(_ hash: String) -> Bool { FileManager.default.fileExists(atPath: url(for: hash).path) }

    /// Adds one chunk. Returns true when the artifact is complete, verified and in place.
    func receive(_ chunk: ArtifactChunkMessage, bytes: Data, from peer: Data) throws -> Bool {
        guard SHA256.isDigest(chunk.hash), chunk.count >= 1,
              chunk.index >= 0, chunk.index < chunk.count, chunk.totalSize >= 0 else {
            throw ArtifactError(hash: chunk.hash, problem: "chunk header out of range (index \(chunk.index) of \(chunk.count))")
        }
        let key = UploadKey(hash: chunk.hash, peer: peer)
        if chunk.index == 0 {
            if let stale = uploads.removeValue(forKey: key) { discard(stale) }
            if has(chunk.hash) && chunk.count == 1 { return true }
            guard uploads.keys.filter({ $0.peer == peer }).count < Self.maxOpenPerPeer else {
                throw ArtifactError(hash: chunk.hash, problem: "refused: this peer already has \(Self.maxOpenPerPeer) uploads open")
            }
            guard uploads.count < Self.maxOpenTotal else {
                throw ArtifactError(hash: chunk.hash, problem: "refused: \(Self.maxOpenTotal) uploads are open")
            }
            let url = incoming.appendingPathComponent("\(chunk.hash).\(peer.hexString)")
            guard FileManager.default.createFile(atPath: url.path, contents: nil),
                  let handle = FileHandle(forWritingAtPath: url.path) else {
                throw ArtifactError(hash: chunk.hash, problem: "cannot create \(url.path)")
            }
            uploads[key] = Upload(handle: handle, url: url, expectedIndex: 0, received: 0, hasher: SHA256(), lastChunk: Date())
        }
        guard var upload = uploads[key], upload.expectedIndex == chunk.index else {
            if let broken = uploads.removeValue(forKey: key) { discard(broken) }
            throw ArtifactError(hash: chunk.hash, problem: "chunk \(chunk.index) arrived out of order")
        }
        do { try upload.handle.write(contentsOf: bytes) } catch {
            uploads[key] = nil; discard(upload)
            throw ArtifactError(hash: chunk.hash, problem: "writing \(upload.url.path): \(error.localizedDescription)", outOfSpace: DiskFull.matches(error))
        }
        upload.hasher.update(bytes)
        upload.received += bytes.count
        upload.expectedIndex += 1
        upload.lastChunk = Date()
        guard upload.received <= chunk.totalSize else {
            uploads[key] = nil; discard(upload)
            throw ArtifactError(hash: chunk.hash, problem: "more bytes than the declared \(chunk.totalSize)")
        }
        guard chunk.index == chunk.count - 1 else { uploads[key] = upload; return false }
        uploads[key] = nil
        try? upload.handle.close()
        let digest = upload.hasher.finalize().hexString
        guard digest == chunk.hash, upload.received == chunk.totalSize else {
            try? FileManager.default.removeItem(at: upload.url)
            throw ArtifactError(hash: chunk.hash, problem: "hash check failed: received \(upload.received) bytes hashing to \(digest.prefix(16))")
        }
        if has(chunk.hash) { try? FileManager.default.removeItem(at: upload.url); return true }
        do { try FileManager.default.moveItem(at: upload.url, to: url(for: chunk.hash)) } catch {
            try? FileManager.default.removeItem(at: upload.url)
            throw ArtifactError(hash: chunk.hash, problem: "storing \(url(for: chunk.hash).path): \(error.localizedDescription)", outOfSpace: DiskFull.matches(error))
        }
        return true
    }

    /// Drops uploads that have waited `idleTimeout` for their next chunk; how many.
    @discardableResult
    func expireIdle(now: Date = Date()) -> Int {
        var expired = 0
        for (key, upload) in uploads where now.timeIntervalSince(upload.lastChunk) > Self.idleTimeout {
            uploads[key] = nil
            discard(upload)
            expired += 1
        }
        return expired
    }

    var openUploads: Int { uploads.count }

    /// Drops partial uploads from a peer that went away.
    func abandon(peer: Data) {
        for (key, upload) in uploads where key.peer == peer {
            uploads[key] = nil
            discard(upload)
        }
    }

    private func discard(_ upload: Upload) {
        try? upload.handle.close()
        try? FileManager.default.removeItem(at: upload.url)
    }
}

/// A read-only memory map of a file; chunks of it are sent zero-copy and the mapping lives
/// until libzmq has released the last chunk.
final class MappedFile {
    let pointer: UnsafeRawPointer
    let count: Int

    init(url: URL) throws {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw ArtifactError(hash: url.lastPathComponent, problem: "cannot open \(url.path): errno \(errno)") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ArtifactError(hash: url.lastPathComponent, problem: "cannot stat \(url.path)") }
        count = Int(info.st_size)
        if count == 0 {
            pointer = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1))
            return
        }
        guard let map = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else {
            throw ArtifactError(hash: url.lastPathComponent, problem: "cannot map \(url.path): errno \(errno)")
        }
        pointer = UnsafeRawPointer(map)
    }

    deinit {
        if count == 0 { UnsafeMutableRawPointer(mutating: pointer).deallocate() } else { munmap(UnsafeMutableRawPointer(mutating: pointer), count) }
    }
}
