// libFuzzer harness for the wire envelope decoder (scripts/fuzz/run.sh builds it with the
// Protocol sources and ClusterStatus's file in one binary). The input is a ZeroMQ multipart
// message: frames one after another, each a 2-byte big-endian length then its bytes (a last
// frame shorter than its length takes what is left). Any message may be refused with a
// WireError; a crash, a trap, or a header that does not describe the frames it accepted is a
// bug. Each body is decoded as its type's, must survive encoding again, and goes through the
// limits the coordinator checks.
import Foundation

/// The frames of `bytes` in the format above.
private func frames(_ bytes: UnsafeBufferPointer<UInt8>) -> [Data] {
    var frames: [Data] = []
    var offset = 0
    while offset + 2 <= bytes.count {
        let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
        let end = min(bytes.count, offset + 2 + length)
        frames.append(Data(bytes[(offset + 2)..<end]))
        offset = end
    }
    return frames
}

@_cdecl("LLVMFuzzerTestOneInput")
public func wireEnvelopeFuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let message = frames(UnsafeBufferPointer(start: data, count: count))
    let envelope: WireEnvelope
    do { envelope = try WireEnvelope.decode(message[...]) } catch let error as WireError {
        _ = (error.description, error.counterKey) // what the coordinator logs and counts
        return 0
    } catch {
        preconditionFailure("envelope refused with \(error), not a WireError")
    }
    // Accepted: the header described these frames exactly, so encoding gives them back.
    precondition(envelope.frames() == message, "accepted an envelope that does not encode back to its frames")
    _ = WireLimits.problem(withBodyOf: envelope)
    // A body that decodes encodes to JSON that decodes to the same value: what a peer reads is
    // what it would send on (a coordinator stores metrics and forwards ring addresses).
    func body<Body: Codable & Equatable>(_ type: Body.Type) -> Body? {
        guard let value = try? envelope.body(type) else { return nil }
        let again = (try? ClusterJSON.encode(value)).flatMap { try? ClusterJSON.decode(type, from: $0) }
        precondition(again == value, "\(type) does not survive encoding: \(value) -> \(String(describing: again))")
        return value
    }
    switch envelope.type {
    case .register: _ = body(RegisterMessage.self).map { WireLimits.problem(with: $0, maxThreads: 256) }
    case .ready: _ = body(ReadyMessage.self)
    case .heartbeat, .statusRequest: break
    case .progress: _ = body(ProgressMessage.self)
    case .result: _ = body(ResultMessage.self).map { WireLimits.problem(with: $0) }
    case .artifactChunk: _ = body(ArtifactChunkMessage.self)
    case .failure: _ = body(FailureMessage.self).map { WireLimits.clipped($0.reason) }
    case .artifactRequest, .artifactMissing: _ = body(ArtifactRequestMessage.self).map { SHA256.isDigest($0.hash) }
    case .ringEndpoint: _ = body(RingEndpointMessage.self).map { WireLimits.problem(with: $0) }
    case .checkpoint: _ = body(CheckpointMessage.self).map { WireLimits.problem(with: $0) }
    case .leaving: _ = body(LeavingMessage.self)
    case .lease: _ = body(LeaseMessage.self)
    case .cancel: _ = body(CancelMessage.self)
    case .shutdown: _ = body(ShutdownMessage.self)
    case .statusReply: _ = body(ClusterStatus.self)
    case .ringPeers: _ = body(RingPeersMessage.self)
    }
    return 0
}
