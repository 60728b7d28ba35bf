import Foundation

/// How replicas exchange gradients (`rt train --replicas`, the `replicas:` of a sweep stage).
public struct DataParallelSettings: Sendable, Codable, Equatable {
    /// Gradients travel in buckets of about this many bytes, each sent as soon as all of its
    /// parameters' gradients are final, so communication overlaps the rest of backward.
    public var bucketBytes = 4 << 20
    /// Replicas compare a checksum of their parameters every this many steps (0: never).
    public var checksumEvery = 50

    public init(bucketBytes: Int = 4 << 20, checksumEvery: Int = 50) {
        self.bucketBytes = bucketBytes
        self.checksumEvery = checksumEvery
    }

    public func validate() throws {
        guard bucketBytes >= 4 else { throw DataParallelError("bucket size \(bucketBytes) bytes is below one Float") }
        guard checksumEvery >= 0 else { throw DataParallelError("checksum interval \(checksumEvery) is negative") }
    }
}

public struct DataParallelError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
