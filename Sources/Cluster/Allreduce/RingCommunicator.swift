import Foundation
import Logging

/// A rank's handle on a ring all-reduce, safe to use from any thread.
///
/// One communication thread owns the sockets (`RingLink`): it forms the ring, runs the queued
/// operations one after another in submission order, and heartbeats both neighbours between
/// them, so a replica that is busy computing (or evaluating) still counts as alive. Callers
/// submit sums without waiting (`submitSum`), so a trainer can send one bucket of gradients
/// while it still computes the next, then `waitForAll()`. Every rank must submit the same
/// operations in the same order; each names itself with (step, bucket), checked on the wire.
///
/// The first failure (a silent, aborted or misbehaving neighbour) breaks the ring for good:
/// every pending and later operation throws it, and the neighbours are told (`abort`), so the
/// whole ring stops within a heartbeat window instead of hanging.
public final class RingCommunicator: @unchecked Sendable {
    public let rank: Int
    public let worldSize: Int
    /// Where this rank listens (the bound address, e.g. with the port `*` resolved).
    public let boundEndpoint: String

    private enum Operation {
        case sum(UnsafeMutablePointer<Float>, count: Int, step: UInt64, bucket: UInt32)
        case gather([UInt8], step: UInt64, bucket: UInt32, into: GatherResult)
    }
    private final class GatherResult: @unchecked Sendable { var blocks: [[UInt8]] = [] }

    private var link: RingLink?
    private let wake: WakePipe
    private let condition = NSCondition()
    private var queue: [Operation] = []
    private var submitted = 0, completed = 0
    private var busy: Double = 0
    private var failure: Error?
    private var formed = false
    private var stopping = false
    private var abortReason: String?
    private var thread: Thread?
    private var finished = false

    /// Binds this rank's listening socket; `connect` forms the ring.
    public init(configuration: RingConfiguration) throws {
        rank = configuration.rank
        worldSize = configuration.worldSize
        wake = try WakePipe()
        if configuration.worldSize > 1 {
            let link = try RingLink(configuration: configuration)
            self.link = link
            boundEndpoint = link.boundEndpoint
        } else {
            boundEndpoint = ""
        }
    }

    deinit { close() }

    /// Connects to the neighbours (`endpoints[r]` is where rank r listens) and waits until the
    /// ring is formed, or throws which rank did not answer in time.
    /// With CurveZMQ, `peerPublicKeys` (by rank) replace the configuration's.
    public func connect(endpoints: [String], peerPublicKeys: [String]? = nil) throws {
        guard let link else { formed = true; return }
        let thread = Thread { [self] in self.serve(link, endpoints: endpoints, peerPublicKeys: peerPublicKeys) }
        thread.name = "rt-ring-\(rank)"
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
        condition.lock()
        defer { condition.unlock() }
        while !formed && failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    /// Queues a sum of `count` values at `buffer` over all ranks, in place. The buffer must stay
    /// valid and untouched until `waitForAll()` returns.
    public func submitSum(_ buffer: UnsafeMutablePointer<Float>, count: Int, step: Int, bucket: Int) throws {
        guard worldSize > 1 else { return }
        try enqueue(.sum(buffer, count: count, step: UInt64(step), bucket: UInt32(bucket)))
    }

    /// Waits until every submitted operation is done; throws the ring's failure if there is one.
    public func waitForAll() throws {
        condition.lock()
        defer { condition.unlock() }
        while completed < submitted && failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    /// Sums in place and waits.
    public func sum(_ buffer: UnsafeMutablePointer<Float>, count: Int, step: Int, bucket: Int) throws {
        try submitSum(buffer, count: count, step: step, bucket: bucket)
        try waitForAll()
    }

    /// Every rank's bytes (equal lengths on every rank), indexed by rank.
    public func gather(_ bytes: [UInt8], step: Int, bucket: Int) throws -> [[UInt8]] {
        guard worldSize > 1 else { return [bytes] }
        let result = GatherResult()
        try enqueue(.gather(bytes, step: UInt64(step), bucket: UInt32(bucket), into: result))
        try waitForAll()
        return result.blocks
    }

    /// Seconds the communication thread has spent running operations so far (sums and gathers,
    /// the network included). Buckets submitted during backward overlap computation, so this may
    /// exceed the time callers spent in `waitForAll`.
    public var busySeconds: Double {
        condition.lock()
        defer { condition.unlock() }
        return busy
    }

    /// Stops the ring because this process failed: neighbours get `reason` and stop too.
    public func abort(reason: String) {
        condition.lock()
        if failure == nil { failure = AllreduceError.closed(reason: reason) }
        abortReason = reason
        stopping = true
        condition.broadcast()
        condition.unlock()
        wake.wake()
        join()
    }

    /// Leaves the ring after the queued operations (neighbours are told `bye`), and joins the thread.
    public func close() {
        condition.lock()
        stopping = true
        condition.unlock()
        wake.wake()
        join()
    }

    private func join() {
        condition.lock()
        defer { condition.unlock() }
        guard thread != nil else { return }
        while !finished { condition.wait() }
    }

    private func enqueue(_ operation: Operation) throws {
        condition.lock()
        if let failure { condition.unlock(); throw failure }
        guard !stopping else { condition.unlock(); throw AllreduceError.closed(reason: "closed") }
        queue.append(operation)
        submitted += 1
        condition.unlock()
        wake.wake()
    }

    // MARK: The communication thread

    private func serve(_ link: RingLink, endpoints: [String], peerPublicKeys: [String]?) {
        var reasonToSend: String?
        var caught: Error?
        link.stopRequested = { [unowned self] in
            self.condition.lock(); defer { self.condition.unlock() }
            return self.abortReason != nil
        }
        do {
            try link.form(endpoints: endpoints, peerPublicKeys: peerPublicKeys,
                          deadline: Date().addingTimeInterval(link.configuration.connectTimeout))
            condition.lock()
            formed = true
            condition.broadcast()
            condition.unlock()
            while true {
                condition.lock()
                if let reason = abortReason {
                    condition.unlock()
                    reasonToSend = reason
                    break
                }
                if !queue.isEmpty {
                    let operation = queue.removeFirst()
                    condition.unlock()
                    let started = DispatchTime.now().uptimeNanoseconds
                    try perform(operation, on: link)
                    let took = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                    condition.lock()
                    completed += 1
                    busy += took
                    condition.broadcast()
                    condition.unlock()
                    continue
                }
                let stop = stopping
                condition.unlock()
                if stop { break }
                wake.drain()
                // Re-check after draining: a submit between the check above and the drain left
                // its operation queued and its wake-up byte consumed.
                condition.lock()
                let idle = queue.isEmpty && !stopping
                condition.unlock()
                if idle { try link.idle(wake: wake.readDescriptor) }
            }
        } catch {
            caught = error
            condition.lock()
            reasonToSend = abortReason ?? "\(error)"
            condition.unlock()
            // Passed on, so the rest of the ring stops now instead of a window later.
            if abortReason == nil { ClusterLog.logger("ring").warning("rank \(rank): \(error)") }
        }
        link.stopRequested = nil
        link.sayGoodbye(abortReason: reasonToSend)
        // Delivers (or, after the linger, drops) what is queued before anyone hears we are done:
        // libzmq may still hold zero-copy pieces of a caller's buffer until then.
        link.close()
        self.link = nil
        condition.lock()
        if let caught, failure == nil { failure = caught }
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func perform(_ operation: Operation, on link: RingLink) throws {
        switch operation {
        case let .sum(buffer, count, step, bucket):
            try link.sum(buffer, count: count, step: step, bucket: bucket)
        case let .gather(bytes, step, bucket, result):
            result.blocks = try link.gather(bytes, step: step, bucket: bucket)
        }
    }
}
