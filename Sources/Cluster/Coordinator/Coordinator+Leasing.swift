import Foundation
import Logging

/// Handing out trials: round-robin dispatch, gangs for data-parallel trials, the end of a
/// lease (requeue within the retry budget, or failure for it and its dependants).
extension Coordinator {
    func dispatch() {
        guard scheduler.hasReady, !roundRobin.isEmpty else { return }
        defer {
            for id in waitingGangs.reversed() { scheduler.pushFront(id) }
            waitingGangs.removeAll()
        }
        var progressed = true
        while progressed && scheduler.hasReady {
            progressed = false
            for routingID in roundRobin {
                guard let session = sessions[routingID], session.credits > 0 else { continue }
                // Only a job type it runs; none ready: the other workers may still find one.
                guard let record = scheduler.popReady(runnableBy: session.jobs) else { continue }
                let size = record.spec.replicas
                if size > 1 {
                    // All or none: a gang that does not fit now waits, and the trials behind it go on,
                    // until it has waited `gangReservation`: then the free slots are held for it.
                    guard let members = TrialScheduler.gangMembers(size, job: record.spec.job, first: routingID, order: roundRobin, sessions: sessions) else {
                        waitingGangs.append(record.spec.id)
                        let since = gangWaitingSince[record.spec.id] ?? Date()
                        gangWaitingSince[record.spec.id] = since
                        // Only a gang the connected workers can hold at all reserves them.
                        if size <= sessions.values.filter({ $0.runs(record.spec.job) }).count && Date().timeIntervalSince(since) >= configuration.gangReservation {
                            if reservingFor != record.spec.id {
                                reservingFor = record.spec.id
                                log.info("holding free workers for \(record.spec.id) (\(size) replicas), waiting \(Int(Date().timeIntervalSince(since))) s", metadata: ["trial": "\(record.spec.id)"])
                                try? store.recordEvent(kind: "gang_reserved", trialID: record.spec.id, detail: "\(size) replicas")
                            }
                            return
                        }
                        progressed = true
                        continue
                    }
                    gangWaitingSince[record.spec.id] = nil
                    if reservingFor == record.spec.id { reservingFor = nil }
                    if lease(record, to: members) { progressed = true }
                } else if lease(record, to: [session]) {
                    progressed = true
                }
            }
        }
    }

    /// Leases a trial to one worker, or a data-parallel trial to one worker per replica (rank = index).
    func lease(_ record: TrialRecord, to members: [WorkerSession]) -> Bool {
        let session = members[0]
        var parents: [LeasedParent] = []
        for parentID in record.spec.parentTrialIDs {
            guard let parent = scheduler.record(parentID), let hash = parent.artifactHash, let stored = try? store.artifact(hash: hash) else {
                failForever(record.spec.id, reason: "artifact of parent trial \(parentID) is missing from the store")
                return true
            }
            parents.append(LeasedParent(stage: parent.spec.stage, trialID: parentID, artifact: stored.reference))
        }
        let attempt: Int?
        do { attempt = try store.lease(trialID: record.spec.id, worker: session.name, host: session.host) } catch {
            scheduler.pushFront(record.spec.id)
            // A full store would fail this lease on every poll: stop leasing instead, once.
            if DiskFull.matches(error) { haltForFullDisk("\(error)") } else { log.error("store: cannot lease \(record.spec.id): \(error)", metadata: ["trial": "\(record.spec.id)"]) }
            return false
        }
        guard let attempt else { return true }
        let key = LeaseKey(trialID: record.spec.id, attempt: attempt)
        let resume = record.attempts > 0 ? (try? store.checkpoint(trialID: record.spec.id)) ?? nil : nil
        let token = leaseTokens.issue(key, fetches: Set(parents.map(\.artifact.hash) + (resume.map { [$0.artifact.hash] } ?? [])))
        if let resume { try? store.recordEvent(kind: "resumes", trialID: record.spec.id, worker: session.name, detail: "attempt \(attempt) goes on from step \(resume.step)") }
        scheduler.markLeased(record.spec.id, attempt: attempt, worker: session.name, host: session.host)
        currentLease[record.spec.id] = (key, session.routingID, Date())
        if members.count > 1 { gangs[record.spec.id] = Gang(key: key, members: members.map(\.routingID)) }
        for (rank, member) in members.enumerated() {
            member.credits -= 1
            member.leases[key] = Date()
            member.stats.leased += 1
            var message = LeaseMessage(trialID: record.spec.id, stage: record.spec.stage, job: record.spec.job, parameters: record.spec.parameters,
                                       seed: record.spec.seed, attempt: attempt, parentArtifact: parents.first?.artifact,
                                       parentArtifacts: parents.isEmpty ? nil : parents)
            if members.count > 1 { message.replica = ReplicaAssignment(rank: rank, worldSize: members.count) }
            message.resume = resume
            message.token = token
            guard let envelope = try? WireEnvelope.make(.lease, message) else {
                endLease(key, reason: "could not encode the lease for \(member.name)", worker: member.name)
                return false
            }
            let delivered = send(envelope, to: member.routingID) { [weak self] in
                self?.endLease(key, reason: "could not deliver the lease to \(member.name)", worker: member.name)
            }
            if !delivered { return false }
        }
        return true
    }

    /// A replica says where its ring listens; when all have, every replica learns all addresses.
    func receiveRingEndpoint(_ routingID: Data, _ message: RingEndpointMessage) throws {
        if let problem = WireLimits.problem(with: message) { throw WireError.badPayload(type: .ringEndpoint, reason: problem) }
        guard var gang = gangs[message.trialID], gang.key == LeaseKey(trialID: message.trialID, attempt: message.attempt) else {
            return // an ended lease: its replicas are being cancelled
        }
        guard gang.members.indices.contains(message.rank), gang.members[message.rank] == routingID else {
            throw WireError.badPayload(type: .ringEndpoint, reason: "\(message.trialID): rank \(message.rank) is not this worker's replica")
        }
        gang.endpoints[message.rank] = message.endpoint
        gang.publicKeys[message.rank] = message.publicKey
        gangs[message.trialID] = gang
        guard let peers = gang.peers else { return }
        let envelope = try WireEnvelope.make(.ringPeers, peers)
        for member in gang.members { _ = send(envelope, to: member) }
    }

    /// The lease ended without a result: requeue within the retry budget, else fail (and its dependants).
    func endLease(_ key: LeaseKey, reason: String, worker: String, interrupted: Bool = false) {
        guard currentLease[key.trialID]?.key == key else { return }
        currentLease[key.trialID] = nil
        leaseTokens.end(key)
        if let gang = gangs.removeValue(forKey: key.trialID) {
            // One replica is gone, so is the ring: the others stop (their ring fails within a
            // heartbeat window anyway; the cancel says why).
            let cancel = try? WireEnvelope.make(.cancel, CancelMessage(trialID: key.trialID, attempt: key.attempt, reason: reason))
            for member in gang.members {
                sessions[member]?.leases[key] = nil
                sessions[member]?.clearProgress(key.trialID)
                if let cancel { _ = send(cancel, to: member) }
            }
        }
        let newState: TrialState?
        do { newState = try store.releaseLease(trialID: key.trialID, reason: reason, worker: worker, interrupted: interrupted) } catch {
            if DiskFull.matches(error) { return haltForFullDisk("\(error)") }
            log.error("store: cannot release \(key.trialID): \(error)", metadata: ["trial": "\(key.trialID)"])
            return
        }
        switch newState {
        case .pending?:
            scheduler.markPending(key.trialID, reason: reason)
            log.info("\(key.trialID) \(interrupted ? "handed back" : "requeued"): \(reason)", metadata: ["trial": "\(key.trialID)"])
        case .failed?:
            log.warning("\(key.trialID) failed: \(reason); retry budget exhausted", metadata: ["trial": "\(key.trialID)"])
            for child in scheduler.markFailed(key.trialID, reason: reason) {
                failForever(child, reason: "parent trial \(key.trialID) failed")
            }
        default:
            break
        }
    }

    /// Fails a trial that can never run, and everything that depends on it. `quietly` when the
    /// caller said why once for many trials: no line per trial.
    func failForever(_ id: String, reason: String, quietly: Bool = false) {
        do { try store.markFailed(trialID: id, reason: reason) } catch {
            log.error("store: cannot fail \(id): \(error)", metadata: ["trial": "\(id)"])
            return
        }
        if !quietly { log.warning("\(id) failed: \(reason)", metadata: ["trial": "\(id)"]) }
        for child in scheduler.markFailed(id, reason: reason) {
            failForever(child, reason: "parent trial \(id) failed", quietly: quietly)
        }
    }
}
