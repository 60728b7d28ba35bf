import Foundation
import Logging

/// Heartbeats, dead workers, the shutdown broadcast.
extension Coordinator {
    func sendHeartbeats() {
        let beat = WireEnvelope(type: .heartbeat)
        for routingID in Array(sessions.keys) { _ = send(beat, to: routingID) }
    }

    func buryDeadWorkers(now: Date) {
        let deadline = configuration.heartbeat.deadline
        for session in Array(sessions.values) where now.timeIntervalSince(session.lastSeen) > deadline {
            bury(session, reason: "worker \(session.name) on \(session.host) silent for \(String(format: "%.1f", now.timeIntervalSince(session.lastSeen))) s")
        }
    }

    func bury(_ session: WorkerSession, reason: String, interrupted: Bool = false) {
        guard sessions[session.routingID] === session else { return }
        sessions[session.routingID] = nil
        if sessionsByWorkerID[session.registration.workerID] == session.routingID {
            sessionsByWorkerID[session.registration.workerID] = nil
        }
        roundRobin.removeAll { $0 == session.routingID }
        vault.abandon(peer: session.routingID)
        log.log(level: interrupted ? .info : .warning, "\(reason)\(interrupted ? "" : ": presumed dead"), \(session.leases.count) leases requeued")
        try? store.recordEvent(kind: interrupted ? "worker-left" : "worker-lost", worker: session.name, detail: reason)
        hostStatistics[session.host, default: WorkerStatistics()].lost += session.leases.count
        for key in session.leases.keys.sorted(by: { $0.trialID < $1.trialID }) {
            session.stats.lost += 1
            // A lease its worker never said it started did not run: its attempt is given back
            // (a peer that takes leases and vanishes cannot spend the retry budget), a bounded
            // number of times per trial.
            let neverStarted = !leaseTokens.wasStarted(key) && leaseTokens.takeFreeReturn(key.trialID)
            endLease(key, reason: "lost with \(reason)\(neverStarted ? " before it started" : "")", worker: session.name,
                     interrupted: interrupted || stopping != nil || neverStarted)
        }
        session.leases.removeAll()
    }

    func broadcastShutdown(reason: String) {
        guard let envelope = try? WireEnvelope.make(.shutdown, ShutdownMessage(reason: reason)) else { return }
        for routingID in sessions.keys { _ = send(envelope, to: routingID) }
    }
}
