import ArgumentParser
import Cluster
import Foundation

/// `rt bench cluster`: the cluster's numbers for BENCHMARKS.md, measured with real processes
/// on this machine (coordinator and workers as children over ipc://).
struct BenchClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Dispatch rate, scheduling overhead and failure-detection time of the cluster.")

    @Flag(name: .long, help: "Print one JSON object (snake_case keys) instead of text.")
    var json = false

    @Option(name: .long, help: "No-op trials for the dispatch-rate measurement.")
    var noopTrials: Int = 5000

    @Option(name: .long, help: "Trials each worker runs at once (and holds queued) in the dispatch-rate measurement.")
    var noopConcurrency: Int?

    @Option(name: .long, help: ArgumentHelp("Deprecated spelling of --noop-concurrency.", visibility: .hidden))
    var noopThreads: Int?

    private static let oldConcurrency = DeprecatedSpelling(command: "rt bench cluster", old: "--noop-threads", new: "--noop-concurrency")

    func validate() throws {
        try Self.oldConcurrency.checkNotBoth(noopConcurrency, noopThreads)
        guard noopTrials >= 1 else { throw ValidationError("--noop-trials must be at least 1, got \(noopTrials)") }
        let concurrency = noopConcurrency ?? noopThreads ?? 4
        guard concurrency >= 1 else { throw ValidationError("--noop-concurrency must be at least 1, got \(concurrency)") }
    }

    struct Results: Codable {
        var dispatch: Dispatch
        /// Same trials with --prefetch 0 (every trial waits one round trip) and 1 (the next lease is already queued).
        var overhead: [Overhead]
        var failureDetection: FailureDetection
    }
    struct Dispatch: Codable { var trials: Int; var workers: Int; var concurrencyPerWorker: Int; var prefetch: Int; var seconds: Double; var trialsPerSecond: Double }
    struct Overhead: Codable { var trials: Int; var trialSeconds: Double; var workers: Int; var prefetch: Int; var seconds: Double; var idealSeconds: Double; var overheadPercent: Double }
    struct FailureDetection: Codable {
        var heartbeatSeconds: Double; var liveness: Int
        /// SIGKILL: the connection closes, noticed at the next heartbeat send.
        var killedWorkerSeconds: Double
        /// SIGSTOP: the connection stays up but the worker is silent: the liveness window decides.
        var silentWorkerSeconds: Double
    }

    func run() throws {
        let concurrency = Self.oldConcurrency.value(noopConcurrency, noopThreads) ?? 4
        let bench = try ClusterBench()
        let line = ProgressLine()
        defer { line.clear(); bench.cleanUp() }
        line.step(1, of: 5, "dispatch rate: \(noopTrials) no-op trials")
        let dispatch = try bench.span(sweep: "noop", stage: "job: sleep\n    parameters: {seconds: 0}", trials: noopTrials,
                                      workers: 2, concurrency: concurrency, prefetch: concurrency)
        let ideal = 200 * 0.1 / 2
        let overhead = try [0, 1].map { prefetch -> Overhead in
            line.step(2 + prefetch, of: 5, "scheduling overhead, prefetch \(prefetch)")
            let seconds = try bench.span(sweep: "overhead-\(prefetch)", stage: "job: sleep\n    parameters: {seconds: 0.1}", trials: 200,
                                         workers: 2, concurrency: 1, prefetch: prefetch)
            return Overhead(trials: 200, trialSeconds: 0.1, workers: 2, prefetch: prefetch, seconds: seconds, idealSeconds: ideal,
                            overheadPercent: (seconds / ideal - 1) * 100)
        }
        line.step(4, of: 5, "failure detection: a killed worker")
        let killed = try bench.detection(signal: SIGKILL)
        line.step(5, of: 5, "failure detection: a silent worker")
        let silent = try bench.detection(signal: SIGSTOP)
        line.clear()
        let results = Results(
            dispatch: Dispatch(trials: noopTrials, workers: 2, concurrencyPerWorker: concurrency, prefetch: concurrency, seconds: dispatch,
                               trialsPerSecond: Double(noopTrials) / dispatch),
            overhead: overhead,
            failureDetection: FailureDetection(heartbeatSeconds: 1, liveness: 3, killedWorkerSeconds: killed, silentWorkerSeconds: silent))
        if json {
            try JSONLines.print(results)
        } else {
            print(String(format: "dispatch: %d no-op trials on 2 workers in %.2f s = %.0f trials/s", noopTrials, dispatch, Double(noopTrials) / dispatch))
            for o in overhead {
                print(String(format: "overhead: 200 x 0.1 s on 2 workers, prefetch %d: %.2f s, ideal %.1f s: %+.1f%%", o.prefetch, o.seconds, ideal, o.overheadPercent))
            }
            print(String(format: "failure detection (1 s heartbeat, 3 missed): killed worker %.2f s, silent worker %.2f s", killed, silent))
        }
    }
}

/// Runs sweeps with child processes and reads the timings back from the store's events.
final class ClusterBench {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-bench-cluster-\(getpid())")
    private let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    private var children: [LocalProcess] = []

    init() throws {
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func cleanUp() {
        children.forEach { $0.kill(SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    private func sweepFile(_ name: String, stage: String, trials: Int) throws -> URL {
        let url = directory.appendingPathComponent("\(name).yaml")
        try "name: \(name)\nstages:\n  - name: s\n    \(stage)\n    grid: {i: {range: [0, \(trials)]}}\n"
            .write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    private func start(_ arguments: [String]) throws -> LocalProcess {
        // Children print their own summaries; keep our stdout to the measurement (--json).
        let process = try LocalProcess(executable: executable, arguments: arguments, label: arguments.first ?? "rt", discardingOutput: true)
        children.append(process)
        return process
    }

    private func store(_ sweep: String) throws -> RunStore {
        try RunStore(path: RunStore.url(runDirectory: directory.appendingPathComponent("runs/\(sweep)")).path, readOnly: true)
    }

    /// Seconds from the first lease to the last result of a whole sweep.
    func span(sweep: String, stage: String, trials: Int, workers: Int, concurrency: Int, prefetch: Int) throws -> Double {
        let endpoint = "ipc://\(directory.path)/\(sweep).ipc"
        let coordinator = try start(["coordinator", try sweepFile(sweep, stage: stage, trials: trials).path, "--bind", endpoint,
                                     "--runs", directory.appendingPathComponent("runs").path, "--quiet"])
        for index in 0..<workers {
            _ = try start(["worker", "--connect", endpoint, "--concurrency", "\(concurrency)", "--prefetch", "\(prefetch)", "--name", "bench-\(index)", "--quiet"])
        }
        while coordinator.isRunning { Thread.sleep(forTimeInterval: 0.05) }
        guard coordinator.exitStatus == 0 else { throw CommandFailure("bench sweep \(sweep) did not finish cleanly") }
        let times = try store(sweep).eventTimes(kinds: ["leased", "done"])
        guard let first = times["leased"]?.min(), let last = times["done"]?.max() else { throw CommandFailure("no events in \(sweep)") }
        return last - first
    }

    /// Seconds from stopping a worker mid-trial (SIGKILL or SIGSTOP) to its lease being requeued.
    func detection(signal: Int32) throws -> Double {
        let sweep = signal == SIGKILL ? "detect-kill" : "detect-stop"
        let endpoint = "ipc://\(directory.path)/\(sweep).ipc"
        let coordinator = try start(["coordinator", try sweepFile(sweep, stage: "job: sleep\n    parameters: {seconds: 3}", trials: 2).path,
                                     "--bind", endpoint, "--runs", directory.appendingPathComponent("runs").path, "--quiet"])
        let victim = try start(["worker", "--connect", endpoint, "--name", "victim", "--quiet"])
        let status = try StatusClient(connect: endpoint)
        while (try? status.status(timeout: 1))?.workers.first(where: { $0.name == "victim" })?.running.isEmpty ?? true {
            guard coordinator.isRunning else { throw CommandFailure("coordinator ended early") }
            Thread.sleep(forTimeInterval: 0.01)
        }
        Thread.sleep(forTimeInterval: 0.5) // mid-trial, and not right after a heartbeat
        let stoppedAt = Date().timeIntervalSince1970
        victim.kill(signal)
        var requeuedAt: Double?
        while requeuedAt == nil && Date().timeIntervalSince1970 - stoppedAt < 30 {
            Thread.sleep(forTimeInterval: 0.01)
            requeuedAt = try store(sweep).eventTimes(kinds: ["requeued"])["requeued"]?.min()
        }
        victim.kill(SIGKILL)
        coordinator.kill(SIGKILL)
        guard let requeuedAt else { throw CommandFailure("the lost lease was never requeued") }
        return requeuedAt - stoppedAt
    }
}
