import Foundation

// Bodies of the JSON payload frame (payload frame 0) of each message type.
// Binary payloads (artifact bytes, masks) follow as further frames. See docs/PROTOCOL.md.

public struct RegisterMessage: Codable, Equatable, Sendable {
    /// Unique per worker process, so a worker that reconnects on a new socket keeps its leases.
    public var workerID: String
    public var name: String
    public var host: String
    public var pid: Int32
    public var threads: Int
    public var version: String
    /// Protocol revision (compatible additions within version 1; docs/PROTOCOL.md). Absent
    /// from revision-1 workers.
    public var revision: Int? = nil
    /// The job types this worker runs (revision 4): the coordinator leases it nothing else.
    /// Absent from older workers, which may be leased any job.
    public var jobs: [String]? = nil
}

public struct ReadyMessage: Codable, Equatable, Sendable {
    /// How many more trials the worker can take now (one credit per free slot).
    public var slots: Int
}

public struct ArtifactReference: Codable, Equatable, Hashable, Sendable {
    public var hash: String   // lower-case hex SHA-256 of the bytes
    public var size: Int
    public var name: String
}

public struct LeaseMessage: Codable, Equatable, Sendable {
    public var trialID: String
    public var stage: String
    public var job: String
    public var parameters: [String: JSONValue]
    public var seed: Int
    /// 1 for the first lease of a trial; a (trialID, attempt) pair names one lease.
    public var attempt: Int
    /// The first parent's artifact: all a revision-1 worker reads.
    public var parentArtifact: ArtifactReference?
    /// Every parent in `from:` order, the first included (revision 2); nil for a root stage
    /// and from revision-1 coordinators.
    public var parentArtifacts: [LeasedParent]? = nil
    /// Set for a data-parallel trial: this worker's place in the gang that runs it together.
    public var replica: ReplicaAssignment? = nil
    /// Set when an earlier attempt stored a checkpoint: the job goes on from it.
    public var resume: ResumePoint? = nil
    /// A secret the coordinator made for this lease (revision 3); every report on the lease
    /// (progress, checkpoint, artifact chunks, result, failure) carries it back, and one
    /// without it is dropped, so a peer that does not hold the lease cannot end or forge it.
    public var token: String? = nil
}

/// One parent of a leased trial: which trial made the artifact, and the artifact to fetch.
public struct LeasedParent: Codable, Equatable, Sendable {
    public var stage: String
    public var trialID: String
    public var artifact: ArtifactReference
}

public struct ResumePoint: Codable, Equatable, Sendable {
    public var artifact: ArtifactReference
    /// Steps the checkpoint was taken after.
    public var step: Int
}

public struct CheckpointMessage: Codable, Equatable, Sendable {
    public var trialID: String
    public var attempt: Int
    /// Uploaded (as artifactChunk messages) before this message on the same connection.
    public var artifact: ArtifactReference
    public var step: Int
    /// The lease's token (revision 3): the coordinator accepts reports on a lease only with it.
    public var token: String? = nil
}

public struct ReplicaAssignment: Codable, Equatable, Sendable {
    public var rank: Int
    public var worldSize: Int
}

public struct RingEndpointMessage: Codable, Equatable, Sendable {
    public var trialID: String
    public var attempt: Int
    public var rank: Int
    /// Where this replica's ring socket listens, e.g. tcp://10.0.0.5:41234.
    public var endpoint: String
    /// The replica's CurveZMQ public key (Z85) when the worker has keys; its peers admit only it.
    public var publicKey: String?
}

public struct RingPeersMessage: Codable, Equatable, Sendable {
    public var trialID: String
    public var attempt: Int
    /// By rank.
    public var endpoints: [String]
    /// By rank; nil unless every replica sent a key.
    public var publicKeys: [String]?
}

public struct ProgressMessage: Codable, Equatable, Sendable {
    public var trialID: String
    public var attempt: Int
    public var fraction: Double
    public var note: String
    /// The lease's token (revision 3): the coordinator accepts reports on a lease only with it.
    public var token: String? = nil
}

public struct ResultMessage: Codable, Equatable, Sendable {
    public var trialID: String
    public var attempt: Int
    public var metrics: [String: JSONValue]
    /// Uploaded (as artifactChunk messages) before this result on the same connection.
    public var artifact: ArtifactReference?
    /// Names of the per-example masks; their bytes are payload frames 1...n in this order.
    public var maskNames: [String]
    public var seconds: Double
    /// The lease's token (revision 3): the coordinator accepts reports on a lease only with it.
    public var token: String? = nil
}

public struct FailureMessage: Codable, Equatable, Sendable {
    public var trialID: String
    public var attempt: Int
    public var reason: String
    /// The trial did not fail: it was stopped (its worker is stopping, or the coordinator asked).
    /// Its attempt is given back; a snapshot, if it took one, was sent before this message.
    public var interrupted: Bool? = nil
    /// The lease's token (revision 3): the coordinator accepts reports on a lease only with it.
    public var token: String? = nil
}

public struct ArtifactChunkMessage: Codable, Equatable, Sendable {
    public var hash: String
    public var name: String
    public var totalSize: Int
    public var index: Int
    public var count: Int
    /// Trial that made the artifact (upload) - lineage; nil when the coordinator serves it.
    public var trialID: String?
    /// The uploading lease's attempt and token (revision 3), so an upload from a worker the
    /// coordinator presumed dead is still admitted, and one from a stranger is not.
    public var attempt: Int? = nil
    public var token: String? = nil
}

public struct ArtifactRequestMessage: Codable, Equatable, Sendable {
    public var hash: String
}

public struct CancelMessage: Codable, Equatable, Sendable {
    public var trialID: String
    public var attempt: Int
    public var reason: String
    /// A stop rather than a cancel: the job stores a snapshot if it can (`saveCheckpoint`) and
    /// ends; the worker reports it `interrupted`.
    public var stop: Bool? = nil
}

public struct ShutdownMessage: Codable, Equatable, Sendable {
    public var reason: String
}

public struct LeavingMessage: Codable, Equatable, Sendable {
    public var reason: String
}

extension WireEnvelope {
    /// A message whose payload is one JSON body plus optional binary frames.
    public static func make<Body: Encodable>(_ type: MessageType, _ body: Body, requestID: UInt64 = 0, binary: [Data] = []) throws -> WireEnvelope {
        WireEnvelope(type: type, requestID: requestID, payload: [try ClusterJSON.encode(body)] + binary)
    }

    /// Decodes payload frame 0 as `Body`; a missing or undecodable body is a `badPayload`.
    public func body<Body: Decodable>(_ bodyType: Body.Type) throws -> Body {
        guard let first = payload.first else { throw WireError.badPayload(type: type, reason: "missing JSON body frame") }
        do { return try ClusterJSON.decode(Body.self, from: first) } catch {
            throw WireError.badPayload(type: type, reason: "cannot decode \(Body.self): \(error)")
        }
    }
}
