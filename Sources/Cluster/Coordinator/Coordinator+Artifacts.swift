import Foundation
import Logging

/// Artifacts over the wire: uploads into the vault, downloads to the leases that need them.
extension Coordinator {
    func receiveChunk(_ routingID: Data, _ envelope: WireEnvelope) throws {
        let chunk = try envelope.body(ArtifactChunkMessage.self)
        guard envelope.payload.count == 2 else {
            throw WireError.badPayload(type: .artifactChunk, reason: "expected a JSON frame and a data frame")
        }
        // From a registered worker, or from a lease holder we presumed dead; not from strangers.
        let holder = chunk.trialID.flatMap { trial in chunk.attempt.flatMap { attempt in chunk.token.map { token in
            leaseTokens.verifies(LeaseKey(trialID: trial, attempt: attempt), token: token) } } } ?? false
        guard sessions[routingID] != nil || holder else {
            return drop(routingID, "upload_refused", "artifact chunk from a peer that is neither registered nor holds a lease")
        }
        do {
            if try vault.receive(chunk, bytes: envelope.payload[1], from: routingID) {
                log.debug("artifact \(chunk.hash.prefix(16)) (\(chunk.totalSize) bytes) received from \(peerName(routingID))")
            }
        } catch {
            count("artifact_rejected")
            if DiskFull.matches(error) { return haltForFullDisk("\(error)") }
            log.warning("\(peerName(routingID)): \(error)")
        }
    }

    /// Streams an artifact in chunks straight from a memory map (zero-copy).
    func serveArtifact(_ hash: String, to routingID: Data, requestID: UInt64) {
        // Only to a worker whose lease needs it (a parent's artifact, the checkpoint it resumes).
        let needed = sessions[routingID].map { leaseTokens.needs(hash, anyOf: $0.leases.keys) } ?? false
        if !needed { drop(routingID, "artifact_not_leased", "request for artifact \(hash.prefix(16)) that none of its leases needs") }
        guard needed, SHA256.isDigest(hash), vault.has(hash), let file = try? MappedFile(url: vault.url(for: hash)) else {
            _ = send((try? WireEnvelope.make(.artifactMissing, ArtifactRequestMessage(hash: hash), requestID: requestID))!, to: routingID)
            return
        }
        let chunkSize = configuration.chunkSize
        let count = max(1, (file.count + chunkSize - 1) / chunkSize)
        for index in 0..<count {
            let offset = index * chunkSize
            let length = min(chunkSize, file.count - offset)
            let meta = ArtifactChunkMessage(hash: hash, name: hash, totalSize: file.count, index: index, count: count, trialID: nil)
            guard let json = try? ClusterJSON.encode(meta) else { return }
            let header = WireEnvelope.header(type: .artifactChunk, requestID: requestID, lengths: [json.count, length])
            do {
                try socket.send([routingID, header, json], zeroCopyTail: ZeroCopyBuffer(pointer: file.pointer + offset, count: length, owner: file), dontWait: true)
            } catch {
                self.count("send_failed")
                log.warning("serving artifact \(hash.prefix(16)) to \(peerName(routingID)) stopped: \(error)")
                return
            }
        }
    }
}
