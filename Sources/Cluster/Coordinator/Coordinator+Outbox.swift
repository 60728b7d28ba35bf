import Foundation
import Logging

/// A message the coordinator tells a peer, and what to do if it cannot be delivered.
struct OutgoingMessage {
    var routingID: Data
    var envelope: WireEnvelope
    var ifUndelivered: (() -> Void)?
}

/// Store first, then tell: group commit (`RunStore.batch`) and the outbox that holds back what
/// the coordinator says until the state it reports is committed.
extension Coordinator {
    /// Runs `work` (a burst of messages, a round of leases) as one store transaction, each change
    /// in a savepoint of its own, and sends what it said only after the commit: a status reply
    /// never counts a result the store does not hold, and a lease is on its way only once the
    /// store has it. A commit that fails on a full disk halts the run as any failed store write
    /// does; what the burst changed is then not stored, and a resumed run redoes it.
    func inOneTransaction(_ work: () -> Void) {
        outbox = []
        do { try store.batch(work) } catch {
            if DiskFull.matches(error) { haltForFullDisk("\(error)") }
            else { log.error("the store could not commit: \(error)") }
        }
        let messages = outbox ?? []
        outbox = nil
        for message in messages where !deliver(message.envelope, to: message.routingID) { message.ifUndelivered?() }
    }

    /// Sends now, or after the open group commit. Returns false only for a message it tried
    /// and failed to send now; one held for later reports its fate through `ifUndelivered`.
    @discardableResult
    func send(_ envelope: WireEnvelope, to routingID: Data, ifUndelivered: (() -> Void)? = nil) -> Bool {
        if outbox != nil {
            outbox!.append(OutgoingMessage(routingID: routingID, envelope: envelope, ifUndelivered: ifUndelivered))
            return true
        }
        guard deliver(envelope, to: routingID) else { ifUndelivered?(); return false }
        return true
    }

    private func deliver(_ envelope: WireEnvelope, to routingID: Data) -> Bool {
        do {
            try socket.send([routingID] + envelope.frames(), dontWait: true)
            return true
        } catch let error as ZMQError {
            count(error.hostUnreachable ? "send_unreachable" : "send_failed")
            if error.hostUnreachable, !finished, let session = sessions[routingID] {
                bury(session, reason: "connection to worker \(session.name) on \(session.host) is gone")
            }
            return false
        } catch {
            return false
        }
    }
}
