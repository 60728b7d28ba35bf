import Foundation
import Logging

/// What workers report on their leases: results, failures, checkpoints, each only from the
/// lease's holder.
extension Coordinator {
    func receiveResult(_ routingID: Data, _ envelope: WireEnvelope) throws {
        let result = try envelope.body(ResultMessage.self)
        guard result.maskNames.count == envelope.payload.count - 1 else {
            throw WireError.badPayload(type: .result, reason: "\(result.maskNames.count) mask names for \(envelope.payload.count - 1) mask frames")
        }
        guard let record = scheduler.record(result.trialID) else {
            throw WireError.badPayload(type: .result, reason: "unknown trial \(result.trialID.prefix(64))")
        }
        guard result.attempt >= 1 && result.attempt <= record.attempts else {
            throw WireError.badPayload(type: .result, reason: "\(result.trialID) attempt \(result.attempt) was never leased (\(record.attempts) leases so far)")
        }
        let key = LeaseKey(trialID: result.trialID, attempt: result.attempt)
        guard holdsLease(routingID, key, token: result.token) else {
            return drop(routingID, "not_lease_holder", "result for \(key.trialID) attempt \(key.attempt), a lease it does not hold")
        }
        let session = sessions[routingID]
        let workerName = session?.name ?? record.worker ?? peerName(routingID)
        let host = session?.host ?? record.host ?? "?"
        session?.leases[key] = nil
        session?.clearProgress(result.trialID)
        if let problem = WireLimits.problem(with: result) {
            // From the lease's holder, which will not send another: the attempt failed.
            drop(routingID, "bad_payload", "result for \(key.trialID) attempt \(key.attempt): \(problem)")
            return endLease(key, reason: "attempt \(key.attempt) on \(workerName): result refused: \(problem)", worker: workerName)
        }
        if let artifact = result.artifact, !vault.has(artifact.hash) {
            log.warning("result of \(key.trialID) attempt \(key.attempt) from \(workerName) names artifact \(artifact.hash.prefix(16)) that did not arrive intact", metadata: ["trial": "\(key.trialID)", "worker": "\(workerName)"])
            // Lost to a full disk, the attempt was not the worker's fault: it is given back.
            endLease(key, reason: "artifact upload from \(workerName) incomplete", worker: workerName, interrupted: outOfSpace != nil)
            return
        }
        let masks = zip(result.maskNames, envelope.payload.dropFirst()).map { ($0, $1) }
        let stored = result.artifact.map { artifact in
            RunStore.StoredArtifact(reference: artifact, parentHash: record.spec.parentTrialID.flatMap { scheduler.record($0)?.artifactHash },
                                    path: vault.url(for: artifact.hash).path)
        }
        let outcome = try store.commitResult(trialID: result.trialID, attempt: result.attempt, worker: workerName, host: host,
                                             metrics: result.metrics, masks: masks, artifact: stored, seconds: result.seconds)
        switch outcome {
        case .accepted:
            let wasCurrent = currentLease[result.trialID]
            currentLease[result.trialID] = nil
            if let gang = gangs.removeValue(forKey: result.trialID) {
                for member in gang.members {
                    sessions[member]?.leases[gang.key] = nil
                    sessions[member]?.clearProgress(result.trialID)
                }
            }
            if let wasCurrent, wasCurrent.key != key {
                // A presumed-dead worker delivered after all; whoever holds the re-lease stops.
                lateResults["accepted", default: 0] += 1
                log.info("late result for \(key.trialID) attempt \(key.attempt) from \(workerName) accepted; cancelling attempt \(wasCurrent.key.attempt)", metadata: ["trial": "\(key.trialID)", "worker": "\(workerName)"])
                if let other = sessions[wasCurrent.routingID] {
                    other.leases[wasCurrent.key] = nil
                    other.clearProgress(key.trialID)
                    _ = send(try WireEnvelope.make(.cancel, CancelMessage(trialID: key.trialID, attempt: wasCurrent.key.attempt,
                                                                          reason: "done by attempt \(key.attempt)")), to: other.routingID)
                }
            } else if wasCurrent == nil {
                lateResults["accepted", default: 0] += 1
                log.info("late result for \(key.trialID) attempt \(key.attempt) from \(workerName) accepted while the trial waited to be re-leased", metadata: ["trial": "\(key.trialID)", "worker": "\(workerName)"])
            }
            finishedInSession += 1
            session?.stats.done += 1
            session?.stats.busySeconds += result.seconds
            hostStatistics[host, default: WorkerStatistics()].done += 1
            hostStatistics[host, default: WorkerStatistics()].busySeconds += result.seconds
            let released = scheduler.markDone(result.trialID, worker: workerName, host: host, artifactHash: result.artifact?.hash)
            for doomed in released.doomed { failForever(doomed.id, reason: doomed.reason) }
        case let .alreadyFinal(state):
            lateResults["dropped", default: 0] += 1
            log.info("result for \(key.trialID) attempt \(key.attempt) from \(workerName) dropped: trial already \(state.rawValue)", metadata: ["trial": "\(key.trialID)", "worker": "\(workerName)"])
        case .unknownTrial:
            throw WireError.badPayload(type: .result, reason: "unknown trial \(result.trialID)")
        }
    }

    func receiveFailure(_ routingID: Data, _ received: FailureMessage) {
        var failure = received
        failure.reason = WireLimits.clipped(failure.reason)
        let key = LeaseKey(trialID: failure.trialID, attempt: failure.attempt)
        guard holdsLease(routingID, key, token: failure.token) else {
            return drop(routingID, "not_lease_holder", "failure of \(key.trialID.prefix(64)) attempt \(key.attempt), a lease it does not hold")
        }
        let session = sessions[routingID]
        session?.leases[key] = nil
        session?.clearProgress(failure.trialID)
        let worker = session?.name ?? peerName(routingID)
        if let host = session?.host, failure.interrupted != true { hostStatistics[host, default: WorkerStatistics()].failed += 1 }
        guard currentLease[failure.trialID]?.key == key else {
            log.info("failure of stale lease \(key.trialID) attempt \(key.attempt) from \(worker) ignored", metadata: ["trial": "\(key.trialID)", "worker": "\(worker)"])
            return
        }
        // A stopping worker's (or a stopping run's) trials did nothing wrong: they get their attempt back.
        let interrupted = failure.interrupted == true || stopping != nil
        if !interrupted { session?.stats.failed += 1 }
        log.info("\(key.trialID) attempt \(key.attempt) \(interrupted ? "interrupted" : "failed") on \(worker): \(failure.reason)", metadata: ["trial": "\(key.trialID)", "worker": "\(worker)"])
        endLease(key, reason: "attempt \(key.attempt) on \(worker): \(failure.reason)", worker: worker, interrupted: interrupted)
    }

    /// A running trial's checkpoint arrived (its chunks first): the next attempt, if any, resumes from it.
    func receiveCheckpoint(_ routingID: Data, _ message: CheckpointMessage) throws {
        let key = LeaseKey(trialID: message.trialID, attempt: message.attempt)
        guard holdsLease(routingID, key, token: message.token) else {
            return drop(routingID, "not_lease_holder", "checkpoint of \(key.trialID.prefix(64)) attempt \(key.attempt), a lease it does not hold")
        }
        guard currentLease[message.trialID]?.key == key else { return }
        if let problem = WireLimits.problem(with: message) {
            throw WireError.badPayload(type: .checkpoint, reason: "\(key.trialID) attempt \(key.attempt): \(problem)")
        }
        guard vault.has(message.artifact.hash) else {
            log.warning("checkpoint of \(message.trialID) from \(peerName(routingID)) did not arrive intact; ignored", metadata: ["trial": "\(message.trialID)"])
            return
        }
        try store.recordCheckpoint(trialID: message.trialID, attempt: message.attempt, reference: message.artifact,
                                   path: vault.url(for: message.artifact.hash).path, step: message.step,
                                   worker: sessions[routingID]?.name ?? peerName(routingID))
    }
}
