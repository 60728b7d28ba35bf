import CZeroMQ
import Foundation

/// How a coordinator run ended.
public struct CoordinatorSummary: Sendable {
    public var sweep: String
    public var runDirectory: URL
    public var done: Int
    public var failed: Int
    public var total: Int
    /// Set when the run stopped on request (SIGINT, SIGTERM) before every trial was final.
    public var stoppedBy: Int32? = nil
    /// Set when the coordinator gave up waiting for workers (`idleTimeout`).
    public var abandoned: String? = nil
}

/// The ROUTER side: owns the sweep's store, leases ready trials to workers that ask,
/// watches their heartbeats, requeues lost leases, stores results exactly once.
///
/// Single-threaded by design: one loop owns the socket, the scheduler and the store writes,
/// so there are no races between a result, a death verdict and a requeue. The only other
/// thread is the ZAP handler.
public final class Coordinator {
    public let configuration: CoordinatorConfiguration
    public let sweep: SweepSpec
    public let runDirectory: URL
    public private(set) var boundEndpoint: String = ""
    private let store: RunStore
    private var scheduler: TrialScheduler
    private let context: ZMQContext
    private var socket: ZMQSocket!
    private var zap: ZAPHandler?
    private let vault: ArtifactVault
    private let log = ClusterLog.shared

    private var sessions: [Data: WorkerSession] = [:]
    private var sessionsByWorkerID: [String: Data] = [:]
    /// trial id -> the lease the coordinator currently honours
    private var currentLease: [String: (key: LeaseKey, routingID: Data, since: Date)] = [:]
    private var hostStatistics: [String: WorkerStatistics] = [:]
    private var dropped: [String: Int] = [:]
    /// Who may report on which lease, and what it may fetch.
    private var leaseTokens = LeaseTokens()
    private var lateResults: [String: Int] = [:]
    private var roundRobin: [Data] = []
    /// Data-parallel trials' leases, by trial id.
    private var gangs: [String: Gang] = [:]
    private let startedAt = Date()
    private var finishedInSession = 0
    /// The exclusive hold on the run directory, for this coordinator's whole life.
    private let lock: RunLock
    /// A clean stop in progress: no new leases; running trials hand themselves back until the deadline.
    private var stopping: (signal: Int32, deadline: Date)?
    private var nextOwnerHeartbeat = Date()
    /// The last moment a worker was connected (for `idleTimeout`), and why the run was abandoned.
    private var lastWorkerSeen = Date()
    private var abandoned: String?
    /// Set once every trial is final: from then on any worker that speaks is told to leave.
    private var finished = false

    /// Opens (or, with `resume`, reopens) the run of `sweepFile` and writes every trial to the
    /// store before anything runs. Binding happens in `run()`.
    public convenience init(sweepFile: URL, configuration: CoordinatorConfiguration) throws {
        try Self.checkSecurity(configuration)
        let (spec, text) = try SweepParser.parse(contentsOf: sweepFile)
        let runDirectory = configuration.runsDirectory.appendingPathComponent(spec.name)
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        // Before anything is read or written: a second coordinator on a live run changes nothing.
        let lock = try RunLock.acquire(runDirectory)
        let storeURL = RunStore.url(runDirectory: runDirectory)
        let existed = FileManager.default.fileExists(atPath: storeURL.path)
        let store = try RunStore(path: storeURL.path)
        let stored = try store.storedSweep()
        if configuration.resume && (stored != nil || !configuration.createIfMissing) {
            guard let stored else { throw CoordinatorError.nothingToResume(runDirectory.path) }
            // The file must be the one the run was created from; stages appended since
            // (`RunStore.appendStages`) are in the store and run as well.
            guard stored.specHash == SHA256.hex(Data(text.utf8)) else {
                throw CoordinatorError.sweepChanged(file: sweepFile.path, runDirectory: runDirectory.path)
            }
            try Self.requeueLeases(store, runDirectory)
        } else {
            if existed && stored != nil { throw CoordinatorError.runExists(runDirectory.path) }
            let trials = SweepExpander.expand(spec)
            try store.createSweep(spec, text: text, trials: trials)
            ClusterLog.shared.log(.info, "coordinator", "sweep \(spec.name): \(trials.count) trials written to \(storeURL.path)")
        }
        try self.init(sweep: spec, runDirectory: runDirectory, store: store, lock: lock, configuration: configuration)
    }

    /// Resumes the run stored in `runDirectory` from the store's own sweep (the file it was
    /// created from plus any appended stages), without a sweep file.
    public convenience init(resuming runDirectory: URL, configuration: CoordinatorConfiguration) throws {
        try Self.checkSecurity(configuration)
        let storeURL = RunStore.url(runDirectory: runDirectory)
        guard FileManager.default.fileExists(atPath: storeURL.path) else { throw CoordinatorError.nothingToResume(runDirectory.path) }
        let lock = try RunLock.acquire(runDirectory)
        let store = try RunStore(path: storeURL.path)
        guard let spec = try store.sweep() else { throw CoordinatorError.nothingToResume(runDirectory.path) }
        try Self.requeueLeases(store, runDirectory)
        try self.init(sweep: spec, runDirectory: runDirectory, store: store, lock: lock, configuration: configuration)
    }

    private init(sweep: SweepSpec, runDirectory: URL, store: RunStore, lock: RunLock, configuration: CoordinatorConfiguration) throws {
        // Another host's live coordinator on a shared file system holds no lock we can see.
        try store.claimOwnership(lock.owner, runDirectory: runDirectory, freshness: Self.ownerFreshness)
        self.lock = lock
        self.configuration = configuration
        self.sweep = sweep
        self.runDirectory = runDirectory
        self.store = store
        scheduler = TrialScheduler(records: try store.trials())
        vault = try ArtifactVault(directory: runDirectory.appendingPathComponent("artifacts"))
        context = try ZMQContext()
        for doomed in scheduler.doomed() { failForever(doomed.id, reason: doomed.reason) }
    }

    private static func checkSecurity(_ configuration: CoordinatorConfiguration) throws {
        if case .none = configuration.security, !configuration.insecure, !EndpointPolicy.isLocal(configuration.bind) {
            throw CoordinatorError.insecureBind(configuration.bind)
        }
        if case .curveServer = configuration.security, configuration.allowList == nil { throw CoordinatorError.missingAllowList }
    }

    /// After a restart no lease is held by anyone this coordinator knows.
    private static func requeueLeases(_ store: RunStore, _ runDirectory: URL) throws {
        let released = try store.releaseAllLeases(reason: "coordinator restarted (--resume): lease lost")
        try store.recordEvent(kind: "resumed", detail: "\(released) leased trials requeued")
        ClusterLog.shared.log(.info, "coordinator", "resuming \(runDirectory.path): \(released) leased trials requeued")
    }

    /// Asks for a clean stop, as a first SIGINT does; a second request stops at once.
    public func requestStop() { configuration.stop.record(0) }

    /// The owner record's heartbeat period, and the age after which another host's record is stale.
    static let ownerHeartbeat: TimeInterval = 5
    static let ownerFreshness: TimeInterval = 3 * ownerHeartbeat

    /// Binds and serves until every trial is done or failed. Returns the final counts.
    public func run() throws -> CoordinatorSummary {
        try openSocket()
        defer {
            zap?.stop()
            socket.close()
            try? store.endOwnership(pid: lock.owner.pid)
        }
        var poller = ZMQPoller([socket])
        let heartbeat = configuration.heartbeat
        var nextHeartbeat = Date()
        var finishedAt: Date?
        while true {
            let now = Date()
            if configuration.stop.count > 0, finishedAt == nil, let signal = configuration.stop.signal {
                if stopping == nil { beginStop(signal) }
                // Every running trial has handed itself back, its time is up, or a second request came.
                if currentLease.isEmpty || now >= stopping!.deadline || configuration.stop.count > 1 {
                    endStop(signal)
                    break
                }
            }
            if !sessions.isEmpty { lastWorkerSeen = now }
            if let idle = configuration.idleTimeout, finishedAt == nil, stopping == nil, now.timeIntervalSince(lastWorkerSeen) > idle {
                abandoned = "no worker connected for \(Int(idle)) s with \(scheduler.total - scheduler.finalCount) trials to go"
                log.log(.error, "coordinator", "\(abandoned!); exiting (the run resumes with --resume)")
                try? store.recordEvent(kind: "abandoned", detail: abandoned!)
                break
            }
            if now >= nextOwnerHeartbeat {
                try? store.ownerHeartbeat(pid: lock.owner.pid)
                nextOwnerHeartbeat = now.addingTimeInterval(Self.ownerHeartbeat)
            }
            // After the shutdown broadcast workers leave on purpose: no more liveness checks.
            if finishedAt == nil {
                if now >= nextHeartbeat {
                    sendHeartbeats()
                    nextHeartbeat = now.addingTimeInterval(heartbeat.interval)
                    let expired = vault.expireIdle(now: now)
                    if expired > 0 { log.log(.warning, "coordinator", "\(expired) artifact uploads dropped: no chunk for \(Int(ArtifactVault.idleTimeout)) s") }
                }
                buryDeadWorkers(now: now)
                if stopping == nil { dispatch() }
            }
            if scheduler.isFinished {
                if finishedAt == nil {
                    finishedAt = now
                    finished = true
                    broadcastShutdown(reason: "sweep finished")
                    try? store.recordEvent(kind: "finished", detail: countsText())
                    log.log(.info, "coordinator", "sweep \(sweep.name) finished: \(countsText())")
                }
                if now.timeIntervalSince(finishedAt!) >= configuration.lingerAfterFinish { break }
            }
            // Wake for the next heartbeat or liveness check, whichever is first.
            let wait = min(nextHeartbeat.timeIntervalSinceNow, heartbeat.interval / 10)
            let readable = try poller.poll(timeoutMilliseconds: max(0, Int(wait * 1000)))
            if readable[0] { drainSocket() }
        }
        let counts = scheduler.counts()
        return CoordinatorSummary(sweep: sweep.name, runDirectory: runDirectory, done: counts[.done] ?? 0,
                                  failed: counts[.failed] ?? 0, total: scheduler.total,
                                  stoppedBy: finished ? nil : configuration.stop.signal, abandoned: abandoned)
    }

    // MARK: Stopping

    /// A clean stop: no new leases; every running trial is told to stop (a training trial first
    /// stores a snapshot it will go on from); its interrupted failure requeues it with its attempt given back.
    private func beginStop(_ signal: Int32) {
        let running = currentLease.count
        stopping = (signal, Date().addingTimeInterval(configuration.stopGrace))
        log.log(.warning, "coordinator", "\(SignalExit.name(signal)): stopping; \(running) running trials told to stop (up to \(Int(configuration.stopGrace)) s)")
        try? store.recordEvent(kind: "stopping", detail: "\(SignalExit.name(signal)): \(running) running trials told to stop")
        for (trialID, lease) in currentLease.sorted(by: { $0.key < $1.key }) {
            let members = gangs[trialID]?.members ?? [lease.routingID]
            let message = CancelMessage(trialID: trialID, attempt: lease.key.attempt, reason: "the run is stopping (\(SignalExit.name(signal)))", stop: true)
            guard let envelope = try? WireEnvelope.make(.cancel, message) else { continue }
            for member in members { _ = send(envelope, to: member) }
        }
    }

    /// Whatever did not hand itself back in time goes back to pending, attempt given back.
    private func endStop(_ signal: Int32) {
        let released = (try? store.releaseAllLeases(reason: "the run stopped (\(SignalExit.name(signal))) before this trial ended", interrupted: true)) ?? 0
        for (trialID, _) in currentLease { scheduler.markPending(trialID, reason: "the run stopped") }
        currentLease.removeAll()
        gangs.removeAll()
        broadcastShutdown(reason: "the coordinator stopped (\(SignalExit.name(signal)))")
        try? store.recordEvent(kind: "stopped", detail: "\(SignalExit.name(signal)): \(countsText())\(released > 0 ? "; \(released) leases released unfinished" : "")")
        log.log(.warning, "coordinator", "stopped by \(SignalExit.name(signal)): \(countsText())")
    }

    // MARK: Socket

    private func openSocket() throws {
        if case .curveServer = configuration.security, let allowList = configuration.allowList {
            let handler = try ZAPHandler(context: context, allowList: allowList)
            handler.start()
            zap = handler
        }
        socket = try context.socket(.router)
        try socket.setRouterMandatory(true)
        try socket.setLinger(milliseconds: 500)
        try socket.setSendHighWaterMark(100_000)
        try socket.setReceiveHighWaterMark(100_000)
        try socket.setMaxMessageSize(Int64(configuration.chunkSize) + (64 << 20))
        try configuration.security.apply(to: socket)
        try socket.bind(configuration.bind)
        boundEndpoint = socket.lastEndpoint ?? configuration.bind
        var curve = false
        if case .curveServer = configuration.security { curve = true }
        let info = CoordinatorInfo(sweep: sweep.name, endpoint: AdvertisedEndpoint.resolve(bound: boundEndpoint, advertise: configuration.advertise), pid: getpid(),
                                   host: ProcessInfo.processInfo.hostName, startedAt: Date().timeIntervalSince1970, curve: curve)
        try ClusterJSON.encode(info, pretty: true).write(to: runDirectory.appendingPathComponent(CoordinatorInfo.fileName), options: .atomic)
        log.log(.info, "coordinator", "listening on \(boundEndpoint)\(curve ? " (CurveZMQ, \(configuration.allowList?.names.count ?? 0) allowed keys)" : "")")
    }

    private func drainSocket() {
        // Bounded, so heartbeats and liveness checks still run under a flood.
        for _ in 0..<2000 {
            let message: ZMQMultipart?
            do { message = try socket.receive(dontWait: true) } catch {
                log.log(.warning, "coordinator", "receive failed: \(error)")
                return
            }
            guard let message else { return }
            handle(message)
        }
    }

    private func send(_ envelope: WireEnvelope, to routingID: Data) -> Bool {
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

    private func count(_ reason: String) { dropped[reason, default: 0] += 1 }

    private func peerName(_ routingID: Data) -> String {
        if let session = sessions[routingID] { return "\(session.name)@\(session.host)" }
        return "peer \(routingID.hexString)"
    }

    // MARK: Incoming

    private func handle(_ message: ZMQMultipart) {
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
                    guard session.leases[key] != nil, holdsLease(routingID, key, token: progress.token) else {
                        return drop(routingID, "not_lease_holder", "progress on \(key.trialID.prefix(64)) attempt \(key.attempt), a lease it does not hold")
                    }
                    leaseTokens.markStarted(key)
                    session.progress[progress.trialID] = min(1, max(0, progress.fraction))
                }
            default:
                count("wrong_direction")
            }
        } catch let error as WireError {
            count(error.counterKey)
            logDrop(routingID, error.description)
        } catch {
            count("bad_payload")
            logDrop(routingID, "\(error)")
        }
    }

    private var dropLogBudget = 50

    /// A report on a lease counts only from its holder: with the lease's token (revision 3),
    /// or, from an older worker that sends none, on the registered connection holding it.
    private func holdsLease(_ routingID: Data, _ key: LeaseKey, token: String?) -> Bool {
        if let token { return leaseTokens.verifies(key, token: token) }
        guard let session = sessions[routingID], (session.registration.revision ?? 1) < WireEnvelope.leaseTokenRevision else { return false }
        return session.leases[key] != nil
    }

    private func drop(_ routingID: Data, _ counter: String, _ why: String) {
        count(counter)
        logDrop(routingID, why)
    }

    /// Logs drops, but not 10,000 lines of them: after 50, every 1000th.
    private func logDrop(_ routingID: Data, _ why: String) {
        let total = dropped.values.reduce(0, +)
        if dropLogBudget > 0 || total % 1000 == 0 {
            dropLogBudget -= 1
            log.log(.warning, "coordinator", "dropped message from \(peerName(routingID)): \(why) (\(total) dropped so far)")
        }
    }

    private func register(_ routingID: Data, _ registration: RegisterMessage, keyName: String?) throws {
        if let problem = WireLimits.problem(with: registration, maxThreads: configuration.maxWorkerThreads) {
            // Said to the peer, so a misconfigured worker learns why instead of retrying for ever.
            log.log(.warning, "coordinator", "registration from \(peerName(routingID)) refused: \(problem)")
            count("register_refused")
            _ = send(try WireEnvelope.make(.shutdown, ShutdownMessage(reason: "registration refused: \(problem)")), to: routingID)
            return
        }
        if (registration.revision ?? 1) < WireEnvelope.severalParentsRevision && scheduler.hasSeveralParents {
            // It would ignore every parent but the first and store a wrong result: send it away.
            let reason = "worker \(registration.name) on \(registration.host) speaks protocol revision \(registration.revision ?? 1); this run has trials with several parents, which need revision \(WireEnvelope.severalParentsRevision): upgrade rt there"
            log.log(.warning, "coordinator", reason)
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
        log.log(.info, "coordinator", "worker \(registration.name) registered from \(registration.host) (pid \(registration.pid), \(registration.threads) threads\(keyName.map { ", key \($0)" } ?? ""))")
        try? store.recordEvent(kind: "worker-registered", worker: registration.name, detail: "host \(registration.host) pid \(registration.pid)")
    }

    private func receiveResult(_ routingID: Data, _ envelope: WireEnvelope) throws {
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
        session?.progress[result.trialID] = nil
        if let artifact = result.artifact, !vault.has(artifact.hash) {
            log.log(.warning, "coordinator", "result of \(key.trialID) attempt \(key.attempt) from \(workerName) names artifact \(artifact.hash.prefix(16)) that did not arrive intact")
            endLease(key, reason: "artifact upload from \(workerName) incomplete", worker: workerName)
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
                    sessions[member]?.progress[result.trialID] = nil
                }
            }
            if let wasCurrent, wasCurrent.key != key {
                // A presumed-dead worker delivered after all; whoever holds the re-lease stops.
                lateResults["accepted", default: 0] += 1
                log.log(.info, "coordinator", "late result for \(key.trialID) attempt \(key.attempt) from \(workerName) accepted; cancelling attempt \(wasCurrent.key.attempt)")
                if let other = sessions[wasCurrent.routingID] {
                    other.leases[wasCurrent.key] = nil
                    other.progress[key.trialID] = nil
                    _ = send(try WireEnvelope.make(.cancel, CancelMessage(trialID: key.trialID, attempt: wasCurrent.key.attempt,
                                                                          reason: "done by attempt \(key.attempt)")), to: other.routingID)
                }
            } else if wasCurrent == nil {
                lateResults["accepted", default: 0] += 1
                log.log(.info, "coordinator", "late result for \(key.trialID) attempt \(key.attempt) from \(workerName) accepted while the trial waited to be re-leased")
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
            log.log(.info, "coordinator", "result for \(key.trialID) attempt \(key.attempt) from \(workerName) dropped: trial already \(state.rawValue)")
        case .unknownTrial:
            throw WireError.badPayload(type: .result, reason: "unknown trial \(result.trialID)")
        }
    }

    private func receiveFailure(_ routingID: Data, _ received: FailureMessage) {
        var failure = received
        failure.reason = WireLimits.clipped(failure.reason)
        let key = LeaseKey(trialID: failure.trialID, attempt: failure.attempt)
        guard holdsLease(routingID, key, token: failure.token) else {
            return drop(routingID, "not_lease_holder", "failure of \(key.trialID.prefix(64)) attempt \(key.attempt), a lease it does not hold")
        }
        let session = sessions[routingID]
        session?.leases[key] = nil
        session?.progress[failure.trialID] = nil
        let worker = session?.name ?? peerName(routingID)
        if let host = session?.host, failure.interrupted != true { hostStatistics[host, default: WorkerStatistics()].failed += 1 }
        guard currentLease[failure.trialID]?.key == key else {
            log.log(.info, "coordinator", "failure of stale lease \(key.trialID) attempt \(key.attempt) from \(worker) ignored")
            return
        }
        // A stopping worker's (or a stopping run's) trials did nothing wrong: they get their attempt back.
        let interrupted = failure.interrupted == true || stopping != nil
        if !interrupted { session?.stats.failed += 1 }
        log.log(.info, "coordinator", "\(key.trialID) attempt \(key.attempt) \(interrupted ? "interrupted" : "failed") on \(worker): \(failure.reason)")
        endLease(key, reason: "attempt \(key.attempt) on \(worker): \(failure.reason)", worker: worker, interrupted: interrupted)
    }

    private func receiveChunk(_ routingID: Data, _ envelope: WireEnvelope) throws {
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
                log.log(.debug, "coordinator", "artifact \(chunk.hash.prefix(16)) (\(chunk.totalSize) bytes) received from \(peerName(routingID))")
            }
        } catch {
            count("artifact_rejected")
            log.log(.warning, "coordinator", "\(peerName(routingID)): \(error)")
        }
    }

    /// Streams an artifact in chunks straight from a memory map (zero-copy).
    private func serveArtifact(_ hash: String, to routingID: Data, requestID: UInt64) {
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
                log.log(.warning, "coordinator", "serving artifact \(hash.prefix(16)) to \(peerName(routingID)) stopped: \(error)")
                return
            }
        }
    }

    // MARK: Leasing

    private func dispatch() {
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
                guard let record = scheduler.popReady() else { return }
                let size = record.spec.replicas
                if size > 1 {
                    // All or none: a gang that does not fit now waits, and the trials behind it go on,
                    // until it has waited `gangReservation`: then the free slots are held for it.
                    guard let members = TrialScheduler.gangMembers(size, first: routingID, order: roundRobin, sessions: sessions) else {
                        waitingGangs.append(record.spec.id)
                        let since = gangWaitingSince[record.spec.id] ?? Date()
                        gangWaitingSince[record.spec.id] = since
                        // Only a gang the connected workers can hold at all reserves them.
                        if size <= sessions.count && Date().timeIntervalSince(since) >= configuration.gangReservation {
                            if reservingFor != record.spec.id {
                                reservingFor = record.spec.id
                                log.log(.info, "coordinator", "holding free workers for \(record.spec.id) (\(size) replicas), waiting \(Int(Date().timeIntervalSince(since))) s")
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

    /// Gangs popped in this dispatch that did not fit; back to the front of the queue after it.
    private var waitingGangs: [String] = []
    /// Since when each waiting gang has not fit, and the one free workers are held for.
    private var gangWaitingSince: [String: Date] = [:]
    private var reservingFor: String?

    /// Leases a trial to one worker, or a data-parallel trial to one worker per replica (rank = index).
    private func lease(_ record: TrialRecord, to members: [WorkerSession]) -> Bool {
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
            log.log(.error, "coordinator", "store: cannot lease \(record.spec.id): \(error)")
            scheduler.pushFront(record.spec.id)
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
            guard let envelope = try? WireEnvelope.make(.lease, message), send(envelope, to: member.routingID) else {
                endLease(key, reason: "could not deliver the lease to \(member.name)", worker: member.name)
                return false
            }
        }
        return true
    }

    /// A running trial's checkpoint arrived (its chunks first): the next attempt, if any, resumes from it.
    private func receiveCheckpoint(_ routingID: Data, _ message: CheckpointMessage) throws {
        let key = LeaseKey(trialID: message.trialID, attempt: message.attempt)
        guard holdsLease(routingID, key, token: message.token) else {
            return drop(routingID, "not_lease_holder", "checkpoint of \(key.trialID.prefix(64)) attempt \(key.attempt), a lease it does not hold")
        }
        guard currentLease[message.trialID]?.key == key else { return }
        guard vault.has(message.artifact.hash) else {
            log.log(.warning, "coordinator", "checkpoint of \(message.trialID) from \(peerName(routingID)) did not arrive intact; ignored")
            return
        }
        try store.recordCheckpoint(trialID: message.trialID, attempt: message.attempt, reference: message.artifact,
                                   path: vault.url(for: message.artifact.hash).path, step: message.step,
                                   worker: sessions[routingID]?.name ?? peerName(routingID))
    }

    /// A replica says where its ring listens; when all have, every replica learns all addresses.
    private func receiveRingEndpoint(_ routingID: Data, _ message: RingEndpointMessage) throws {
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
    private func endLease(_ key: LeaseKey, reason: String, worker: String, interrupted: Bool = false) {
        guard currentLease[key.trialID]?.key == key else { return }
        currentLease[key.trialID] = nil
        leaseTokens.end(key)
        if let gang = gangs.removeValue(forKey: key.trialID) {
            // One replica is gone, so is the ring: the others stop (their ring fails within a
            // heartbeat window anyway; the cancel says why).
            let cancel = try? WireEnvelope.make(.cancel, CancelMessage(trialID: key.trialID, attempt: key.attempt, reason: reason))
            for member in gang.members {
                sessions[member]?.leases[key] = nil
                sessions[member]?.progress[key.trialID] = nil
                if let cancel { _ = send(cancel, to: member) }
            }
        }
        let newState: TrialState?
        do { newState = try store.releaseLease(trialID: key.trialID, reason: reason, worker: worker, interrupted: interrupted) } catch {
            log.log(.error, "coordinator", "store: cannot release \(key.trialID): \(error)")
            return
        }
        switch newState {
        case .pending?:
            scheduler.markPending(key.trialID, reason: reason)
            log.log(.info, "coordinator", "\(key.trialID) \(interrupted ? "handed back" : "requeued"): \(reason)")
        case .failed?:
            log.log(.warning, "coordinator", "\(key.trialID) failed: \(reason); retry budget exhausted")
            for child in scheduler.markFailed(key.trialID, reason: reason) {
                failForever(child, reason: "parent trial \(key.trialID) failed")
            }
        default:
            break
        }
    }

    /// Fails a trial that can never run, and everything that depends on it.
    private func failForever(_ id: String, reason: String) {
        do { try store.markFailed(trialID: id, reason: reason) } catch {
            log.log(.error, "coordinator", "store: cannot fail \(id): \(error)")
            return
        }
        log.log(.warning, "coordinator", "\(id) failed: \(reason)")
        for child in scheduler.markFailed(id, reason: reason) {
            failForever(child, reason: "parent trial \(id) failed")
        }
    }

    // MARK: Liveness

    private func sendHeartbeats() {
        let beat = WireEnvelope(type: .heartbeat)
        for routingID in Array(sessions.keys) { _ = send(beat, to: routingID) }
    }

    private func buryDeadWorkers(now: Date) {
        let deadline = configuration.heartbeat.deadline
        for session in Array(sessions.values) where now.timeIntervalSince(session.lastSeen) > deadline {
            bury(session, reason: "worker \(session.name) on \(session.host) silent for \(String(format: "%.1f", now.timeIntervalSince(session.lastSeen))) s")
        }
    }

    private func bury(_ session: WorkerSession, reason: String, interrupted: Bool = false) {
        guard sessions[session.routingID] === session else { return }
        sessions[session.routingID] = nil
        if sessionsByWorkerID[session.registration.workerID] == session.routingID {
            sessionsByWorkerID[session.registration.workerID] = nil
        }
        roundRobin.removeAll { $0 == session.routingID }
        vault.abandon(peer: session.routingID)
        log.log(interrupted ? .info : .warning, "coordinator", "\(reason)\(interrupted ? "" : ": presumed dead"), \(session.leases.count) leases requeued")
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

    private func broadcastShutdown(reason: String) {
        guard let envelope = try? WireEnvelope.make(.shutdown, ShutdownMessage(reason: reason)) else { return }
        for routingID in sessions.keys { _ = send(envelope, to: routingID) }
    }

    // MARK: Status

    private func countsText() -> String {
        let counts = scheduler.counts()
        return TrialState.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
    }

    func status() -> ClusterStatus {
        let now = Date()
        var counts: [String: Int] = [:]
        for (state, n) in scheduler.counts() { counts[state.rawValue] = n }
        let elapsed = now.timeIntervalSince(startedAt)
        let throughput = elapsed > 0 ? Double(finishedInSession) / elapsed : 0
        let remaining = scheduler.total - scheduler.finalCount
        var dropped = self.dropped
        if let zap { dropped["zap_denied"] = zap.deniedCount }
        let workers = sessions.values.sorted { $0.name < $1.name }.map {
            ClusterStatus.Worker(name: $0.name, host: $0.host, pid: $0.registration.pid, threads: $0.registration.threads,
                                 running: $0.leases.keys.map(\.trialID).sorted(), progress: $0.progress, secondsSinceHeard: now.timeIntervalSince($0.lastSeen),
                                 statistics: $0.stats)
        }
        return ClusterStatus(sweep: sweep.name, counts: counts, total: scheduler.total, workers: workers, hosts: hostStatistics,
                             elapsedSeconds: elapsed, throughput: throughput,
                             etaSeconds: throughput > 0 ? Double(remaining) / throughput : nil,
                             dropped: dropped, lateResults: lateResults)
    }
}
