import Foundation
import Logging

/// Incoming messages: decoding, routing by type, registration, the drop counters.
extension Coordinator {
    func handle(_ message: ZMQMultipart) {
        guard let routingID = message.frames.first, message.frames.count >= 2 else {
            count("malformed")
            return
        }
        let envelope: WireEnvelope
        do {
            envelope = try WireEnvelope.decode(message.frames.dropFirst())
            guard envelope.type.sentByWorker else { throw WireError.wrongDirection(envelope.type) }
        } catch let error as WireError {
            count(error.counterKey)
            logDrop(routingID, error.description)
            return
        } catch { return }
        let session = sessions[routingID]
        session?.lastSeen = Date()
        if finished && envelope.type != .statusRequest {
            // Late joiners (or workers that missed the broadcast) must not wait for work forever.
            _ = send((try? WireEnvelope.make(.shutdown, ShutdownMessage(reason: "sweep finished")))!, to: routingID)
            return
        }
        do {
            if let problem = WireLimits.problem(withBodyOf: envelope) { throw WireError.badPayload(type: envelope.type, reason: problem) }
            switch envelope.type {
            case .register: try register(routingID, envelope.body(RegisterMessage.self), keyName: message.userID)
            case .statusRequest: _ = send(try WireEnvelope.make(.statusReply, status(), requestID: envelope.requestID), to: routingID)
            case .result: try receiveResult(routingID, envelope)
            case .failure: receiveFailure(routingID, try envelope.body(FailureMessage.self))
            case .artifactChunk: try receiveChunk(routingID, envelope)
            case .artifactRequest: serveArtifact(try envelope.body(ArtifactRequestMessage.self).hash, to: routingID, requestID: envelope.requestID)
            case .ringEndpoint: try receiveRingEndpoint(routingID, envelope.body(RingEndpointMessage.self))
            case .checkpoint: try receiveCheckpoint(routingID, envelope.body(CheckpointMessage.self))
            case .leaving:
                let leaving = try envelope.body(LeavingMessage.self)
                if let session { bury(session, reason: "worker \(session.name) on \(session.host) left: \(leaving.reason.prefix(200))", interrupted: true) }
            case .ready, .heartbeat, .progress:
                guard let session else {
                    // A worker we declared dead (or that talked to our predecessor): it gets no
                    // heartbeats from us, so it reconnects and registers again.
                    count("unregistered")
                    return
                }
                if envelope.type == .ready {
                    let slots = try envelope.body(ReadyMessage.self).slots
                    guard slots > 0 && slots <= 4096 else { throw WireError.badPayload(type: .ready, reason: "slots \(slots) out of range") }
                    // Bounded, so a confused worker cannot hoard the queue (threads + prefetch allowance).
                    session.credits = min(session.credits + slots, session.registration.threads + 16)
                } else if envelope.type == .progress {
                    let progress = try envelope.body(ProgressMessage.self)
                    let key = LeaseKey(trialID: progress.trialID, attempt: progress.attempt)
                    // Progress on a lease that just ended is stale, not hostile: ignored.
                    guard session.leases[key] != nil else { return }
                    guard holdsLease(routingID, key, token: progress.token) else {
                        return drop(routingID, "not_lease_holder", "progress on \(key.trialID.prefix(64)) attempt \(key.attempt) without its lease's token")
                    }
                    leaseTokens.markStarted(key)
                    session.progress[progress.trialID] = min(1, max(0, progress.fraction))
                    session.notes[progress.trialID] = String(progress.note.prefix(WireLimits.maxNoteLength))
                }
            default:
                count("wrong_direction")
            }
        } catch let error as WireError {
            count(error.counterKey)
            logDrop(routingID, error.description)
        } catch {
            // The store or the vault could not write: not the peer's fault, and said once.
            if DiskFull.matches(error) { return haltForFullDisk("\(error)") }
            count("bad_payload")
            logDrop(routingID, "\(error)")
        }
    }

    /// A report on a lease counts only from its holder: with the lease's token (revision 3),
    /// or, from an older worker that sends none, on the registered connection holding it.
    func holdsLease(_ routingID: Data, _ key: LeaseKey, token: String?) -> Bool {
        if let token { return leaseTokens.verifies(key, token: token) }
        guard let session = sessions[routingID], (session.registration.revision ?? 1) < WireEnvelope.leaseTokenRevision else { return false }
        return session.leases[key] != nil
    }

    func drop(_ routingID: Data, _ counter: String, _ why: String) {
        count(counter)
        logDrop(routingID, why)
    }

    /// Logs drops, but not 10,000 lines of them: after 50, every 1000th.
    func logDrop(_ routingID: Data, _ why: String) {
        let total = dropped.values.reduce(0, +)
        if dropLogBudget > 0 || total % 1000 == 0 {
            dropLogBudget -= 1
            log.warning("dropped message from \(peerName(routingID)): \(why) (\(total) dropped so far)")
        }
    }

    func register(_ routingID: Data, _ registration: RegisterMessage, keyName: String?) throws {
        if let problem = WireLimits.problem(with: registration, maxThreads: configuration.maxWorkerThreads) {
            // Said to the peer, so a misconfigured worker learns why instead of retrying for ever.
            log.warning("registration from \(peerName(routingID)) refused: \(problem)")
            count("register_refused")
            _ = send(try WireEnvelope.make(.shutdown, ShutdownMessage(reason: "registration refused: \(problem)")), to: routingID)
            return
        }
        if (registration.revision ?? 1) < WireEnvelope.severalParentsRevision && scheduler.hasSeveralParents {
            // It would ignore every parent but the first and store a wrong result: send it away.
            let reason = "worker \(registration.name) on \(registration.host) speaks protocol revision \(registration.revision ?? 1); this run has trials with several parents, which need revision \(WireEnvelope.severalParentsRevision): upgrade rt there"
            log.warning("\(reason)")
            _ = send(try WireEnvelope.make(.shutdown, ShutdownMessage(reason: reason)), to: routingID)
            return
        }
        let session = WorkerSession(routingID: routingID, registration: registration, keyName: keyName, now: Date())
        if let oldRoute = sessionsByWorkerID[registration.workerID], let old = sessions.removeValue(forKey: oldRoute) {
            // Same process on a new socket: its running trials are still its own.
            session.leases = old.leases
            session.stats = old.stats
            for (key, _) in old.leases where currentLease[key.trialID]?.key == key {
                if currentLease[key.trialID]?.routingID == oldRoute { currentLease[key.trialID]?.routingID = routingID }
                if let gang = gangs[key.trialID], gang.key == key {
                    gangs[key.trialID]?.members = gang.members.map { $0 == oldRoute ? routingID : $0 }
                }
            }
            roundRobin.removeAll { $0 == oldRoute }
            vault.abandon(peer: oldRoute)
        } else if let previous = sessions[routingID] {
            bury(previous, reason: "re-registered on the same connection")
        }
        sessions[routingID] = session
        sessionsByWorkerID[registration.workerID] = routingID
        roundRobin.append(routingID)
        log.info("worker \(registration.name) registered from \(registration.host) (pid \(registration.pid), up to \(registration.threads) trials at once\(keyName.map { ", key \($0)" } ?? ""))", metadata: ["worker": "\(registration.name)"])
        try? store.recordEvent(kind: "worker-registered", worker: registration.name, detail: "host \(registration.host) pid \(registration.pid)")
        countJobTypes(of: session)
    }
}
