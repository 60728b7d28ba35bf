import CZeroMQ
import Foundation
import Logging

/// The DEALER side. The thread that calls `run()` is the worker's link thread: it owns the
/// socket, heartbeats every interval whatever the jobs are doing, turns leases into jobs for
/// the job threads, fetches parent artifacts, uploads results, and reconnects with back-off
/// when the coordinator falls silent (Paranoid Pirate).
public final class Worker {
    public let configuration: WorkerConfiguration
    public let workerID = UUID().uuidString
    private let context: ZMQContext
    private var socket: ZMQSocket?
    private let executor: JobExecutor
    /// Every line carries the worker's name as metadata (`worker=...`).
    private let log: Logger

    private var running: [LeaseKey: CancellationFlag] = [:]
    /// Each held lease's token, echoed in every report on it (the coordinator drops reports
    /// without it). Kept until the report that ends the lease is sent.
    private var tokens: [LeaseKey: String] = [:]
    /// Leases waiting for parent artifacts, with the ones gathered so far.
    private var assembling: [LeaseKey: Assembly] = [:]
    /// Artifact hash -> leases waiting for it (a download serves them all).
    private var waitingForArtifact: [String: [LeaseKey]] = [:]
    private var downloads: [String: Download] = [:]
    /// Sent results kept for one liveness window: if the link dies they are sent again on the
    /// new connection (the coordinator accepts a result at most once, so resending is safe).
    private var recentlySent: [(at: Date, messages: [WireEnvelope])] = []
    /// Latest progress per running lease, sent with the next heartbeat: a job may report as
    /// often as it likes without flooding the coordinator.
    private var pendingProgress: [LeaseKey: ProgressMessage] = [:]
    private var lastHeard = Date()
    private var backoff: TimeInterval
    private var shutdownReason: String?
    private var requestCounter: UInt64 = 0
    /// Data-parallel leases running here, for the coordinator's `ringPeers` and `cancel`.
    private var replicaSlots: [LeaseKey: ReplicaSlot] = [:]
    /// Set once a stop was asked for: running trials hand themselves back until the deadline.
    private var stopDeadline: Date?
    /// The signal that stopped this worker, when one did (the caller exits with 128 + it).
    public private(set) var stoppedBy: Int32?

    private struct Download {
        var data = Data()
        var expectedIndex = 0
        var deadline: Date
    }

    private struct Assembly {
        var lease: LeaseMessage
        /// In `from:` order. Two parents may have made identical bytes: one hash, one download.
        var parents: [LeasedParent]
        var bytes: [String: Data] = [:]
        /// Every parent's artifact, and the checkpoint a requeued data-parallel trial resumes from.
        var missing: Set<String> {
            Set(parents.map(\.artifact.hash) + [lease.resume?.artifact.hash].compactMap { $0 }).subtracting(bytes.keys)
        }
    }

    public init(configuration: WorkerConfiguration, registry: JobRegistry) throws {
        self.configuration = configuration
        log = ClusterLog.logger("worker", metadata: ["worker": "\(configuration.name)"])
        context = try ZMQContext()
        executor = try JobExecutor(registry: registry, threads: configuration.threads)
        backoff = configuration.heartbeat.interval
        try FileManager.default.createDirectory(at: configuration.cacheDirectory, withIntermediateDirectories: true)
    }

    /// Serves until the coordinator says shutdown. Returns its reason.
    public func run() throws -> String {
        try connect()
        let heartbeat = configuration.heartbeat
        var nextHeartbeat = Date()
        while shutdownReason == nil {
            let now = Date()
            if configuration.stop.count > 0, let signal = configuration.stop.signal {
                if stopDeadline == nil { beginStop(signal) }
                if running.isEmpty || now >= stopDeadline! || configuration.stop.count > 1 {
                    finishStop(signal)
                    break
                }
            }
            if now >= nextHeartbeat {
                send(WireEnvelope(type: .heartbeat))
                for progress in pendingProgress.values { send((try? WireEnvelope.make(.progress, progress))!) }
                pendingProgress.removeAll()
                nextHeartbeat = now.addingTimeInterval(heartbeat.interval)
            }
            if now.timeIntervalSince(lastHeard) > heartbeat.deadline {
                try reconnect()
                nextHeartbeat = Date()
                continue
            }
            expireDownloads(now: now)
            guard let socket else { break }
            var poller = ZMQPoller([socket], fileDescriptors: [executor.wake.readDescriptor])
            let wait = max(0, min(nextHeartbeat.timeIntervalSinceNow, heartbeat.interval / 4))
            let readable = try poller.poll(timeoutMilliseconds: Int(wait * 1000))
            if readable[0] { drainSocket() }
            if readable[1] { executor.wake.drain() }
            for report in executor.outbox.drain() { deliver(report) }
        }
        executor.stop()
        socket?.close()
        log.info("shutting down: \(shutdownReason ?? "")")
        return shutdownReason ?? ""
    }

    // MARK: Stopping

    /// Every running trial is asked to stop (a training trial stores a snapshot first); trials
    /// still waiting for their parents' artifacts are handed back at once; no more work is asked for.
    private func beginStop(_ signal: Int32) {
        stopDeadline = Date().addingTimeInterval(configuration.stopGrace)
        log.log(level: running.isEmpty ? .info : .warning, "\(SignalExit.name(signal)): stopping; \(running.count) running trials told to stop")
        for flag in running.values { flag.requestStop() }
        for slot in replicaSlots.values { slot.cancel(reason: "worker \(configuration.name) is stopping (\(SignalExit.name(signal)))") }
        for key in assembling.keys.sorted(by: { $0.trialID < $1.trialID }) { handBack(key, "worker \(configuration.name) stopped before the trial started") }
        assembling.removeAll()
        waitingForArtifact.removeAll()
        downloads.removeAll()
    }

    /// Hands back whatever is still running, says goodbye (the coordinator requeues at once, not
    /// after the liveness window) and gives the socket time to deliver both.
    private func finishStop(_ signal: Int32) {
        for key in running.keys.sorted(by: { $0.trialID < $1.trialID }) {
            handBack(key, "worker \(configuration.name) stopped (\(SignalExit.name(signal))) before the trial ended")
        }
        running.removeAll()
        send((try? WireEnvelope.make(.leaving, LeavingMessage(reason: "stopped by \(SignalExit.name(signal))")))!)
        try? socket?.setLinger(milliseconds: 2000)
        stoppedBy = signal
        shutdownReason = "stopped by \(SignalExit.name(signal))"
    }

    private func handBack(_ key: LeaseKey, _ reason: String) {
        send((try? WireEnvelope.make(.failure, FailureMessage(trialID: key.trialID, attempt: key.attempt, reason: reason, interrupted: true,
                                                              token: tokens.removeValue(forKey: key))))!)
    }

    // MARK: Connection

    private func connect() throws {
        let socket = try context.socket(.dealer)
        try socket.setLinger(milliseconds: 0)
        try socket.setSendHighWaterMark(100_000)
        try socket.setReceiveHighWaterMark(100_000)
        try socket.setReconnectInterval(milliseconds: Int32(configuration.heartbeat.interval * 1000), max: Int32(configuration.maxReconnectBackoff * 1000))
        try configuration.security.apply(to: socket)
        try socket.connect(configuration.connect)
        self.socket = socket
        lastHeard = Date()
        let registration = RegisterMessage(workerID: workerID, name: configuration.name, host: ProcessInfo.processInfo.hostName,
                                           pid: getpid(), threads: configuration.threads, version: "rt-cluster/\(WireEnvelope.protocolVersion)",
                                           revision: WireEnvelope.protocolRevision, jobs: executor.registry.jobTypes)
        send(try WireEnvelope.make(.register, registration))
        if freeSlots > 0 && stopDeadline == nil { send(try WireEnvelope.make(.ready, ReadyMessage(slots: freeSlots))) }
        log.info("connected to \(configuration.connect) running up to \(configuration.threads) trials at once")
    }

    private func reconnect() throws {
        log.warning("coordinator silent for \(String(format: "%.1f", Date().timeIntervalSince(lastHeard))) s; reconnecting in \(String(format: "%.2f", backoff)) s")
        socket?.close()
        socket = nil
        // Chunks in flight died with the connection; downloads restart from chunk 0 below.
        downloads.removeAll()
        Thread.sleep(forTimeInterval: backoff)
        backoff = min(backoff * 2, configuration.maxReconnectBackoff)
        try connect()
        let now = Date()
        recentlySent.removeAll { now.timeIntervalSince($0.at) > 4 * configuration.heartbeat.deadline + backoff }
        for entry in recentlySent { for message in entry.messages { send(message) } }
        // Leases still waiting for a parent artifact ask for it again on the new connection.
        for hash in waitingForArtifact.keys.sorted() { requestArtifact(hash) }
    }

    private var freeSlots: Int {
        configuration.threads + configuration.prefetch - running.count - assembling.count
    }

    private func send(_ envelope: WireEnvelope) {
        guard let socket else { return }
        do { try socket.send(envelope.frames(), dontWait: true) } catch {
            log.warning("cannot send \(envelope.type): \(error)")
        }
    }

    // MARK: From the coordinator

    private func drainSocket() {
        while let socket, let message = try? socket.receive(dontWait: true) {
            let envelope: WireEnvelope
            do {
                envelope = try WireEnvelope.decode(message.frames[...])
                guard envelope.type.sentByCoordinator else { throw WireError.wrongDirection(envelope.type) }
            } catch {
                log.warning("dropped message from coordinator: \(error)")
                continue
            }
            lastHeard = Date()
            backoff = configuration.heartbeat.interval
            do { try handle(envelope) } catch {
                log.warning("dropped \(envelope.type) from coordinator: \(error)")
            }
        }
    }

    private func handle(_ envelope: WireEnvelope) throws {
        switch envelope.type {
        case .heartbeat, .statusReply:
            return
        case .lease:
            try receiveLease(try envelope.body(LeaseMessage.self))
        case .cancel:
            let cancel = try envelope.body(CancelMessage.self)
            let flag = running[LeaseKey(trialID: cancel.trialID, attempt: cancel.attempt)]
            cancel.stop == true ? flag?.requestStop() : flag?.cancel()
            replicaSlots[LeaseKey(trialID: cancel.trialID, attempt: cancel.attempt)]?.cancel(reason: "cancelled: \(cancel.reason)")
            log.info("\(cancel.trialID) attempt \(cancel.attempt) cancelled: \(cancel.reason)", metadata: ["trial": "\(cancel.trialID)"])
        case .shutdown:
            shutdownReason = try envelope.body(ShutdownMessage.self).reason
        case .artifactChunk:
            guard envelope.payload.count == 2 else { throw WireError.badPayload(type: .artifactChunk, reason: "expected 2 frames") }
            receiveChunk(try envelope.body(ArtifactChunkMessage.self), bytes: envelope.payload[1])
        case .artifactMissing:
            let hash = try envelope.body(ArtifactRequestMessage.self).hash
            abandonDownload(hash, reason: "coordinator has no artifact \(hash.prefix(16))")
        case .ringPeers:
            let peers = try envelope.body(RingPeersMessage.self)
            guard let slot = replicaSlots[LeaseKey(trialID: peers.trialID, attempt: peers.attempt)] else { return }
            guard peers.endpoints.count == slot.worldSize, peers.publicKeys.map({ $0.count == slot.worldSize }) ?? true else {
                throw WireError.badPayload(type: .ringPeers, reason: "\(peers.endpoints.count) endpoints for \(slot.worldSize) replicas")
            }
            slot.deliver(endpoints: peers.endpoints, publicKeys: peers.publicKeys)
        default:
            throw WireError.wrongDirection(envelope.type)
        }
    }

    private func start(_ assembly: Assembly) {
        let lease = assembly.lease
        let flag = CancellationFlag()
        let key = LeaseKey(trialID: lease.trialID, attempt: lease.attempt)
        running[key] = flag
        let parents = assembly.parents.map { ParentArtifact(stage: $0.stage, trialID: $0.trialID, bytes: assembly.bytes[$0.artifact.hash]!) }
        let resume = lease.resume.map { point in (assembly.bytes[point.artifact.hash]!, point.step) }
        var slot: ReplicaSlot?
        if let replica = lease.replica {
            var keys: CurveKeyPair?
            if case let .curveClient(pair, _) = configuration.security { keys = pair }
            let (outbox, wake) = (executor.outbox, executor.wake)
            slot = ReplicaSlot(rank: replica.rank, worldSize: replica.worldSize, host: configuration.ringHost, keys: keys,
                               heartbeat: configuration.heartbeat) { endpoint, publicKey in
                outbox.push(.ringEndpoint(RingEndpointMessage(trialID: lease.trialID, attempt: lease.attempt, rank: replica.rank,
                                                              endpoint: endpoint, publicKey: publicKey)))
                wake.wake()
            }
            replicaSlots[key] = slot
        }
        executor.jobs.push(PendingJob(lease: lease, parentArtifacts: parents, cancellation: flag, replica: slot, resume: resume))
        // Tells the coordinator the trial runs here: should this worker die now, the attempt
        // counts; a lease that never started is given back without spending the retry budget.
        send((try? WireEnvelope.make(.progress, ProgressMessage(trialID: lease.trialID, attempt: lease.attempt, fraction: 0,
                                                                note: "started", token: lease.token)))!)
    }

    // MARK: Parent artifacts

    private func cacheURL(_ hash: String) -> URL { configuration.cacheDirectory.appendingPathComponent(hash) }

    /// Starts the lease when every parent artifact is cached, else asks for the missing ones.
    private func receiveLease(_ lease: LeaseMessage) throws {
        if let token = lease.token { tokens[LeaseKey(trialID: lease.trialID, attempt: lease.attempt)] = token }
        if stopDeadline != nil {
            handBack(LeaseKey(trialID: lease.trialID, attempt: lease.attempt), "worker \(configuration.name) is stopping")
            return
        }
        // A revision-1 coordinator names the first parent only, without its stage or trial.
        let parents = lease.parentArtifacts ?? lease.parentArtifact.map { [LeasedParent(stage: "", trialID: "", artifact: $0)] } ?? []
        for parent in parents where !SHA256.isDigest(parent.artifact.hash) {
            throw WireError.badPayload(type: .lease, reason: "artifact of parent \(parent.trialID) is not a SHA-256 digest")
        }
        if let resume = lease.resume, !SHA256.isDigest(resume.artifact.hash) {
            throw WireError.badPayload(type: .lease, reason: "checkpoint to resume from is not a SHA-256 digest")
        }
        var assembly = Assembly(lease: lease, parents: parents)
        for hash in assembly.missing {
            if let cached = cachedArtifact(hash) { assembly.bytes[hash] = cached }
        }
        let missing = assembly.missing
        guard !missing.isEmpty else { start(assembly); return }
        let key = LeaseKey(trialID: lease.trialID, attempt: lease.attempt)
        assembling[key] = assembly
        for hash in missing.sorted() {
            waitingForArtifact[hash, default: []].append(key)
            if downloads[hash] == nil { requestArtifact(hash) }
        }
    }

    /// Re-checked: the cache is shared and outlives us, so nothing in it is trusted blindly.
    private func cachedArtifact(_ hash: String) -> Data? {
        guard let cached = try? Data(contentsOf: cacheURL(hash)) else { return nil }
        if SHA256.hex(cached) == hash { return cached }
        try? FileManager.default.removeItem(at: cacheURL(hash))
        return nil
    }

    private func requestArtifact(_ hash: String) {
        downloads[hash] = Download(deadline: Date().addingTimeInterval(configuration.downloadTimeout))
        requestCounter += 1
        send((try? WireEnvelope.make(.artifactRequest, ArtifactRequestMessage(hash: hash), requestID: requestCounter))!)
    }

    private func receiveChunk(_ chunk: ArtifactChunkMessage, bytes: Data) {
        guard var download = downloads[chunk.hash], download.expectedIndex == chunk.index else {
            if downloads[chunk.hash] != nil { abandonDownload(chunk.hash, reason: "chunk \(chunk.index) out of order") }
            return
        }
        download.data.append(bytes)
        download.expectedIndex += 1
        guard chunk.index == chunk.count - 1 else { downloads[chunk.hash] = download; return }
        downloads[chunk.hash] = nil
        guard download.data.count == chunk.totalSize, SHA256.hex(download.data) == chunk.hash else {
            abandonDownload(chunk.hash, reason: "artifact \(chunk.hash.prefix(16)) failed its hash check")
            return
        }
        try? download.data.write(to: cacheURL(chunk.hash), options: .atomic)
        for key in waitingForArtifact.removeValue(forKey: chunk.hash) ?? [] {
            guard var assembly = assembling[key] else { continue }
            assembly.bytes[chunk.hash] = download.data
            if assembly.missing.isEmpty {
                assembling[key] = nil
                start(assembly)
            } else {
                assembling[key] = assembly
            }
        }
    }

    /// Fails every lease that needed the artifact, naming the parent it came from.
    private func abandonDownload(_ hash: String, reason: String) {
        downloads[hash] = nil
        for key in waitingForArtifact.removeValue(forKey: hash) ?? [] {
            guard let assembly = assembling.removeValue(forKey: key) else { continue }
            for other in assembly.missing where other != hash {
                waitingForArtifact[other]?.removeAll { $0 == key }
                if waitingForArtifact[other]?.isEmpty == true { waitingForArtifact[other] = nil }
            }
            let parent = assembly.parents.first { $0.artifact.hash == hash }
            let why = parent.map { "\(reason) (artifact of parent trial \($0.trialID))" } ?? reason
            send((try? WireEnvelope.make(.failure, FailureMessage(trialID: key.trialID, attempt: key.attempt, reason: why,
                                                                  token: tokens.removeValue(forKey: key))))!)
        }
        if freeSlots > 0 && stopDeadline == nil { send((try? WireEnvelope.make(.ready, ReadyMessage(slots: freeSlots)))!) }
        log.warning("\(reason)")
    }

    private func expireDownloads(now: Date) {
        for (hash, download) in downloads where download.deadline < now {
            abandonDownload(hash, reason: "download of artifact \(hash.prefix(16)) timed out")
        }
    }

    // MARK: To the coordinator

    private let readyForOne = (try? WireEnvelope.make(.ready, ReadyMessage(slots: 1)))!

    /// A slot freed up: ask for its next trial, unless this worker is stopping.
    private func askForOne() { if stopDeadline == nil { send(readyForOne) } }

    private func deliver(_ report: JobReport) {
        switch report {
        case let .progress(trialID, attempt, fraction, note):
            let key = LeaseKey(trialID: trialID, attempt: attempt)
            if running[key] != nil {
                pendingProgress[key] = ProgressMessage(trialID: trialID, attempt: attempt, fraction: fraction, note: note, token: tokens[key])
            }
        case let .ringEndpoint(message):
            send((try? WireEnvelope.make(.ringEndpoint, message))!)
        case let .checkpoint(lease, bytes, step):
            guard running[LeaseKey(trialID: lease.trialID, attempt: lease.attempt)] != nil else { return }
            do {
                let (chunks, reference) = try artifactChunks(name: "checkpoint.safetensors", bytes: bytes, lease: lease)
                for message in chunks { send(message) }
                send(try WireEnvelope.make(.checkpoint, CheckpointMessage(trialID: lease.trialID, attempt: lease.attempt, artifact: reference, step: step,
                                                                          token: lease.token)))
            } catch {
                log.warning("checkpoint of \(lease.trialID) not sent: \(error)", metadata: ["trial": "\(lease.trialID)"])
            }
        case let .failed(lease, reason):
            let key = LeaseKey(trialID: lease.trialID, attempt: lease.attempt)
            // Ended because it was told to stop: not the trial's fault.
            let interrupted = running[key]?.stopRequested == true
            running[key] = nil
            replicaSlots[key] = nil
            pendingProgress[key] = nil
            tokens[key] = nil
            send((try? WireEnvelope.make(.failure, FailureMessage(trialID: lease.trialID, attempt: lease.attempt, reason: reason,
                                                                  interrupted: interrupted ? true : nil, token: lease.token)))!)
            askForOne()
        case let .finished(lease, outcome, seconds):
            running[LeaseKey(trialID: lease.trialID, attempt: lease.attempt)] = nil
            replicaSlots[LeaseKey(trialID: lease.trialID, attempt: lease.attempt)] = nil
            pendingProgress[LeaseKey(trialID: lease.trialID, attempt: lease.attempt)] = nil
            tokens[LeaseKey(trialID: lease.trialID, attempt: lease.attempt)] = nil
            if let replica = lease.replica, replica.rank > 0 {
                // Rank 0 reports the trial's result; the other replicas only free their slot.
                askForOne()
                return
            }
            do {
                let messages = try resultMessages(lease, outcome, seconds: seconds)
                for message in messages { send(message) }
                let now = Date()
                recentlySent.removeAll { now.timeIntervalSince($0.at) > 2 * configuration.heartbeat.deadline }
                recentlySent.append((now, messages))
            } catch {
                send((try? WireEnvelope.make(.failure, FailureMessage(trialID: lease.trialID, attempt: lease.attempt, reason: "\(error)",
                                                                      token: lease.token)))!)
            }
            askForOne()
        }
    }

    /// Artifact chunks (if any) followed by the result, in the order they must arrive.
    private func resultMessages(_ lease: LeaseMessage, _ outcome: JobOutcome, seconds: Double) throws -> [WireEnvelope] {
        var messages: [WireEnvelope] = []
        var reference: ArtifactReference?
        if let artifact = outcome.artifact {
            (messages, reference) = try artifactChunks(name: artifact.name, bytes: artifact.bytes, lease: lease)
        }
        let maskNames = outcome.masks.keys.sorted()
        guard maskNames.count < WireEnvelope.maxPayloadFrames else {
            throw JobError("\(maskNames.count) masks exceed the protocol's \(WireEnvelope.maxPayloadFrames - 1) per result")
        }
        let result = ResultMessage(trialID: lease.trialID, attempt: lease.attempt, metrics: outcome.metrics, artifact: reference,
                                   maskNames: maskNames, seconds: seconds, token: lease.token)
        let envelope = try WireEnvelope.make(.result, result, binary: maskNames.map { outcome.masks[$0]! })
        // The coordinator would drop it: the trial fails here, saying why, instead.
        if let problem = WireLimits.problem(with: result) ?? WireLimits.problem(withBodyOf: envelope) {
            throw JobError("the job's result cannot be sent: \(problem)")
        }
        messages.append(envelope)
        return messages
    }

    /// An upload: the artifact in chunks, in the order they must arrive, and its reference.
    private func artifactChunks(name: String, bytes: Data, lease: LeaseMessage) throws -> ([WireEnvelope], ArtifactReference) {
        let hash = SHA256.hex(bytes)
        let chunkSize = configuration.chunkSize
        let count = max(1, (bytes.count + chunkSize - 1) / chunkSize)
        let messages = try (0..<count).map { index -> WireEnvelope in
            let start = bytes.startIndex + index * chunkSize
            let piece = bytes[start..<min(start + chunkSize, bytes.endIndex)]
            let meta = ArtifactChunkMessage(hash: hash, name: name, totalSize: bytes.count, index: index, count: count, trialID: lease.trialID,
                                            attempt: lease.attempt, token: lease.token)
            return try WireEnvelope.make(.artifactChunk, meta, binary: [Data(piece)])
        }
        return (messages, ArtifactReference(hash: hash, size: bytes.count, name: name))
    }
}
