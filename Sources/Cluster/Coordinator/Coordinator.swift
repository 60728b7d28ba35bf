import CZeroMQ
import Foundation
import Logging

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
    let store: RunStore
    var scheduler: TrialScheduler
    let context: ZMQContext
    var socket: ZMQSocket!
    var zap: ZAPHandler?
    let vault: ArtifactVault
    let log = ClusterLog.logger("coordinator")

    var sessions: [Data: WorkerSession] = [:]
    var sessionsByWorkerID: [String: Data] = [:]
    /// trial id -> the lease the coordinator currently honours
    var currentLease: [String: (key: LeaseKey, routingID: Data, since: Date)] = [:]
    var hostStatistics: [String: WorkerStatistics] = [:]
    var dropped: [String: Int] = [:]
    /// Who may report on which lease, and what it may fetch.
    var leaseTokens = LeaseTokens()
    /// Which job types the registered workers run (`Coordinator+JobTypes`).
    var jobCensus = JobCensus()
    var lateResults: [String: Int] = [:]
    /// What the open group commit will send once it is stored (`inOneTransaction`); nil outside one.
    var outbox: [OutgoingMessage]?
    var roundRobin: [Data] = []
    /// Data-parallel trials' leases, by trial id.
    var gangs: [String: Gang] = [:]
    let startedAt = Date()
    var finishedInSession = 0
    /// The exclusive hold on the run directory, for this coordinator's whole life.
    let lock: RunLock
    /// A clean stop in progress: no new leases; running trials hand themselves back until the deadline.
    var stopping: (signal: Int32, deadline: Date)?
    /// Why the run directory cannot take more (disk full), once it happened: the run stops as on
    /// SIGTERM and then ends abandoned, resumable when space returns.
    var outOfSpace: String?
    var nextOwnerHeartbeat = Date()
    /// The last moment a worker was connected (for `idleTimeout`), and why the run was abandoned.
    var lastWorkerSeen = Date()
    var abandoned: String?
    /// Set once every trial is final: from then on any worker that speaks is told to leave.
    var finished = false

    /// Opens (or, with `resume`, reopens) the run of `sweepFile` and writes every trial to the
    /// store before anything runs. Binding happens in `run()`.
    var dropLogBudget = 50
    /// Gangs popped in this dispatch that did not fit; back to the front of the queue after it.
    var waitingGangs: [String] = []
    /// Since when each waiting gang has not fit, and the one free workers are held for.
    var gangWaitingSince: [String: Date] = [:]
    var reservingFor: String?

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
            ClusterLog.logger("coordinator").info("sweep \(spec.name): \(trials.count) trials written to \(storeURL.path)")
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
        ClusterLog.logger("coordinator").info("resuming \(runDirectory.path): \(released) leased trials requeued")
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
            if outOfSpace != nil, finishedAt == nil, let stopping, currentLease.isEmpty || now >= stopping.deadline {
                endStop(stopping.signal, because: "the run directory is out of space")
                abandoned = "the run directory \(runDirectory.path) is out of space (\(outOfSpace!)); free space"
                break
            }
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
                log.error("\(abandoned!); exiting (the run resumes with --resume)")
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
                    if expired > 0 { log.warning("\(expired) artifact uploads dropped: no chunk for \(Int(ArtifactVault.idleTimeout)) s") }
                }
                buryDeadWorkers(now: now)
                if stopping == nil, jobCensus.isDue(now) { inOneTransaction { settleJobTypes(now: now) } }
                if stopping == nil, scheduler.hasReady { inOneTransaction(dispatch) }
            }
            if scheduler.isFinished {
                if finishedAt == nil {
                    finishedAt = now
                    finished = true
                    broadcastShutdown(reason: "sweep finished")
                    try? store.recordEvent(kind: "finished", detail: countsText())
                    log.info("sweep \(sweep.name) finished: \(countsText())")
                }
                if now.timeIntervalSince(finishedAt!) >= configuration.lingerAfterFinish { break }
            }
            // Wake for the next heartbeat or liveness check, whichever is first.
            let wait = min(nextHeartbeat.timeIntervalSinceNow, heartbeat.interval / 10)
            let readable = try poller.poll(timeoutMilliseconds: max(0, Int(wait * 1000)))
            if readable[0] {
                // What the burst freed (credits, finished parents) is leased in the same transaction,
                // without waiting for the next turn of the loop.
                inOneTransaction {
                    drainSocket()
                    if stopping == nil, finishedAt == nil, configuration.stop.count == 0 { dispatch() }
                }
            }
        }
        let counts = scheduler.counts()
        return CoordinatorSummary(sweep: sweep.name, runDirectory: runDirectory, done: counts[.done] ?? 0,
                                  failed: counts[.failed] ?? 0, total: scheduler.total,
                                  stoppedBy: finished ? nil : configuration.stop.signal, abandoned: abandoned)
    }

    // MARK: Stopping

    /// A clean stop: no new leases; every running trial is told to stop (a training trial first
    /// stores a snapshot it will go on from); its interrupted failure requeues it with its attempt given back.
    func beginStop(_ signal: Int32, because cause: String? = nil) {
        let running = currentLease.count
        let why = cause ?? SignalExit.name(signal)
        stopping = (signal, Date().addingTimeInterval(configuration.stopGrace))
        log.warning("\(why): stopping; \(running) running trials told to stop (up to \(Int(configuration.stopGrace)) s)")
        try? store.recordEvent(kind: "stopping", detail: "\(why): \(running) running trials told to stop")
        for (trialID, lease) in currentLease.sorted(by: { $0.key < $1.key }) {
            let members = gangs[trialID]?.members ?? [lease.routingID]
            let message = CancelMessage(trialID: trialID, attempt: lease.key.attempt, reason: "the run is stopping (\(why))", stop: true)
            guard let envelope = try? WireEnvelope.make(.cancel, message) else { continue }
            for member in members { _ = send(envelope, to: member) }
        }
    }

    /// Whatever did not hand itself back in time goes back to pending, attempt given back.
    func endStop(_ signal: Int32, because cause: String? = nil) {
        let why = cause ?? SignalExit.name(signal)
        let released = (try? store.releaseAllLeases(reason: "the run stopped (\(why)) before this trial ended", interrupted: true)) ?? 0
        for (trialID, _) in currentLease { scheduler.markPending(trialID, reason: "the run stopped") }
        currentLease.removeAll()
        gangs.removeAll()
        broadcastShutdown(reason: "the coordinator stopped (\(why))")
        try? store.recordEvent(kind: "stopped", detail: "\(why): \(countsText())\(released > 0 ? "; \(released) leases released unfinished" : "")")
        log.warning("\(cause.map { "stopped (\($0))" } ?? "stopped by \(why)"): \(countsText())")
    }

    /// The disk under the run directory is full: said once, no new leases, every running trial
    /// told to stop (what it hands back is interrupted, its attempt given back), then the run
    /// ends non-zero (`abandoned`). Nothing stored is touched: the store stays consistent and
    /// `--resume` continues once there is space.
    func haltForFullDisk(_ cause: String) {
        guard outOfSpace == nil else { return }
        outOfSpace = cause
        log.error("out of space under \(runDirectory.path): \(cause); no new leases, stopping the running trials")
        try? store.recordEvent(kind: "out-of-space", detail: WireLimits.clipped(cause))
        if stopping == nil { beginStop(SIGTERM, because: "the run directory is out of space") }
    }

    // MARK: Socket

    func openSocket() throws {
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
        log.info("listening on \(boundEndpoint)\(curve ? " (CurveZMQ, \(configuration.allowList?.names.count ?? 0) allowed keys)" : "")")
    }

    func drainSocket() {
        // Bounded, so heartbeats and liveness checks still run under a flood.
        for _ in 0..<2000 {
            let message: ZMQMultipart?
            do { message = try socket.receive(dontWait: true) } catch {
                log.warning("receive failed: \(error)")
                return
            }
            guard let message else { return }
            handle(message)
        }
    }

    func count(_ reason: String) { dropped[reason, default: 0] += 1 }

    func peerName(_ routingID: Data) -> String {
        if let session = sessions[routingID] { return "\(session.name)@\(session.host)" }
        return "peer \(routingID.hexString)"
    }
}
