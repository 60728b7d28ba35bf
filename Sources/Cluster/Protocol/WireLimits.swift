import Foundation

/// Bounds on what a peer may claim or say, checked before anything is logged or stored, so a
/// 4 MiB worker name or a 10,000-thread claim is refused with a reason instead of filling the
/// log, the store or the lease queue.
public enum WireLimits {
    public static let maxWorkerIDLength = 128
    public static let maxNameLength = 128
    public static let maxHostLength = 255
    public static let maxVersionLength = 64
    /// Failure reasons are kept (store, log) up to this many characters.
    public static let maxReasonLength = 4096
    /// A progress note (`epoch 3/8, loss 0.412; ...`) is kept for `rt status` up to this many characters.
    public static let maxNoteLength = 256

    /// A worker lists at most this many job types (revision 4), each at most this long.
    public static let maxJobTypes = 256
    public static let maxJobTypeLength = 64
    /// Artifact and mask names, and a replica's ring endpoint.
    public static let maxArtifactNameLength = 255
    public static let maxMaskNameLength = 128
    public static let maxEndpointLength = 512
    /// A result's JSON body is at most this many bytes: its metrics are stored with the trial
    /// (learning curves, per-attack tables). Every other body is bounded field by field, and
    /// every message by the connection's largest message (`ZMQ_MAXMSGSIZE`).
    public static let maxResultBodyBytes = 16 << 20

    /// Why a worker's message is refused before its body is decoded: a result past its size.
    public static func problem(withBodyOf envelope: WireEnvelope) -> String? {
        guard envelope.type == .result, let body = envelope.payload.first, body.count > maxResultBodyBytes else { return nil }
        return "JSON body of \(body.count) bytes (at most \(maxResultBodyBytes))"
    }

    /// Why a result is refused: its artifact reference, a mask name, or a time that is no time.
    public static func problem(with result: ResultMessage) -> String? {
        if let artifact = result.artifact, let problem = problem(with: artifact) { return problem }
        for name in result.maskNames {
            if let problem = problem("mask name", name, limit: maxMaskNameLength) { return problem }
        }
        guard result.seconds.isFinite && result.seconds >= 0 else { return "seconds \(result.seconds) is not a duration" }
        return nil
    }

    /// Why a checkpoint is refused: its artifact reference or a negative step.
    public static func problem(with checkpoint: CheckpointMessage) -> String? {
        if let problem = problem(with: checkpoint.artifact) { return problem }
        return checkpoint.step >= 0 ? nil : "step \(checkpoint.step) is negative"
    }

    /// Why a replica's ring address is refused (it is passed on to every replica of the gang).
    public static func problem(with ring: RingEndpointMessage) -> String? {
        if let problem = problem("ring endpoint", ring.endpoint, limit: maxEndpointLength) { return problem }
        if let key = ring.publicKey, key.utf8.count != 40 { return "public key of \(key.utf8.count) characters (Z85 keys have 40)" }
        return nil
    }

    /// An artifact reference names a file by its SHA-256 (never a path), a size and a short name.
    public static func problem(with artifact: ArtifactReference) -> String? {
        guard SHA256.isDigest(artifact.hash) else { return "artifact hash \"\(artifact.hash.prefix(80))\" is not a lower-case hex SHA-256" }
        guard artifact.size >= 0 else { return "artifact size \(artifact.size) is negative" }
        return problem("artifact name", artifact.name, limit: maxArtifactNameLength)
    }

    /// Why a registration is refused, or nil.
    public static func problem(with registration: RegisterMessage, maxThreads: Int) -> String? {
        let fields: [(String, String, Int)] = [("worker id", registration.workerID, maxWorkerIDLength), ("name", registration.name, maxNameLength),
                                               ("host", registration.host, maxHostLength), ("version", registration.version, maxVersionLength)]
        for (field, value, limit) in fields {
            if let problem = problem(field, value, limit: limit) { return problem }
        }
        guard registration.threads >= 1 && registration.threads <= maxThreads else {
            return "\(registration.threads) trials at once (this coordinator accepts 1 to \(maxThreads) per worker: --max-worker-concurrency)"
        }
        if let jobs = registration.jobs {
            guard jobs.count <= maxJobTypes else { return "\(jobs.count) job types (at most \(maxJobTypes))" }
            for job in jobs {
                if let problem = problem("job type", job, limit: maxJobTypeLength) { return problem }
            }
        }
        return nil
    }

    /// Why a text field is refused: empty, longer than `limit` bytes, or holding control characters.
    static func problem(_ field: String, _ value: String, limit: Int) -> String? {
        if value.isEmpty { return "empty \(field)" }
        if value.utf8.count > limit { return "\(field) of \(value.utf8.count) bytes (at most \(limit))" }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "\(field) contains control characters" }
        return nil
    }

    /// `text` cut to `maxReasonLength` characters, saying so.
    public static func clipped(_ text: String) -> String {
        text.count <= maxReasonLength ? text : String(text.prefix(maxReasonLength)) + " ... (\(text.count - maxReasonLength) more characters)"
    }
}
