import Foundation
import XCTest
@testable import Cluster

/// `sbatch cluster/slurm/rt.sbatch SWEEP` against a real one-node Slurm (slurmctld, slurmd and
/// munged started by scripts/cluster/slurm-local.sh): completion, requeue, the time-limit
/// signal, dead workers and two jobs at once. Needs root; skipped (with the reason) otherwise.
final class SlurmProcessTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var slurmDirectory: URL?
    static var skipReason: String?
    var directory: URL!

    override class func setUp() {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rt-slurm-\(getpid())")
        // Installing slurm-wlm and munge on a fresh machine takes a minute or two.
        let (status, output) = shell("source '\(repository.path)/scripts/cluster/slurm-local.sh' && slurm_local_start '\(dir.path)'", timeout: 600)
        if status == 0 { slurmDirectory = dir } else { skipReason = output.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    override class func tearDown() {
        guard let dir = slurmDirectory else { return }
        _ = shell("source '\(repository.path)/scripts/cluster/slurm-local.sh' && export SLURM_CONF='\(dir.path)/slurm.conf' SLURM_LOCAL_DIR='\(dir.path)' && slurm_local_stop")
        if ProcessInfo.processInfo.environment["RT_KEEP_SLURM"] == nil { try? FileManager.default.removeItem(at: dir) }
    }

    override func setUpWithError() throws {
        guard Self.slurmDirectory != nil else { throw XCTSkip(Self.skipReason ?? "no Slurm") }
        _ = try ProcessHarness.rtBinary()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-slurm-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        _ = Self.shell("scancel --quiet --user=root", environment: slurmEnvironment())
        if (testRun?.failureCount ?? 0) > 0 {
            print(Self.shell("tail -n 40 \(directory.path)/rt-*.out \(directory.path)/slurm-jobs/*/*.log").output)
            print("test files kept in \(directory.path)")
        } else if let directory {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    // MARK: Slurm

    /// `bash -c command`, bounded in time (see ShellCommand: Slurm's daemons outlive it).
    @discardableResult
    static func shell(_ command: String, environment: [String: String]? = nil, in directory: URL? = nil,
                      timeout: TimeInterval = 60) -> (status: Int32, output: String) {
        let outcome = ShellCommand(command: command, environment: environment, directory: directory, timeout: timeout).run()
        return (outcome.status, outcome.text)
    }

    func slurmEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["SLURM_CONF"] = Self.slurmDirectory.map { $0.appendingPathComponent("slurm.conf").path }
        environment["RT_BINARY"] = try? ProcessHarness.rtBinary().path
        environment.merge(extra) { $1 }
        return environment
    }

    /// `sbatch OPTIONS rt.sbatch SWEEP` from the test directory; the job id.
    func submit(_ sweep: URL, _ options: [String], environment: [String: String] = [:]) throws -> String {
        let script = Self.repository.appendingPathComponent("cluster/slurm/rt.sbatch").path
        let (status, output) = Self.shell((["sbatch", "--parsable"] + options + [script, sweep.path]).joined(separator: " "),
                                          environment: slurmEnvironment(environment), in: directory)
        XCTAssertEqual(status, 0, output)
        return try XCTUnwrap(output.split(separator: "\n").last.map { String($0.split(separator: ";")[0]) }, output)
    }

    /// One field of `scontrol show job`, e.g. JobState, Restarts, ExitCode.
    func jobField(_ job: String, _ field: String) -> String? {
        let text = Self.shell("scontrol show job \(job)", environment: slurmEnvironment()).output
        for token in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) where token.hasPrefix(field + "=") {
            return String(token.dropFirst(field.count + 1))
        }
        return nil
    }

    func waitForState(_ job: String, _ states: Set<String>, timeout: TimeInterval) -> String? {
        var state: String?
        _ = ProcessHarness.waitUntil(timeout: timeout) {
            state = self.jobField(job, "JobState")
            return state.map(states.contains) ?? false
        }
        return state
    }

    /// A requeued job waits (BeginTime) for its old credential to expire: `cred_expire`, 10 s in
    /// slurm-local.sh's configuration; starting it earlier makes the node refuse it.
    func waitForRequeue(_ job: String) {
        XCTAssertEqual(waitForState(job, ["PENDING"], timeout: 60), "PENDING")
    }

    // MARK: Runs

    func sweep(_ name: String, trials: Int, seconds: Double) throws -> URL {
        let url = directory.appendingPathComponent("\(name).yaml")
        try SweepText.sleep(name, trials: trials, seconds: seconds, retries: 0).write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func store(_ name: String) throws -> RunStore {
        try RunStore(path: RunStore.url(runDirectory: directory.appendingPathComponent("runs/\(name)")).path, readOnly: true)
    }

    func doneCount(_ name: String) -> Int { ((try? store(name).counts()) ?? [:])[.done] ?? 0 }

    func assertAllDoneExactlyOnce(_ name: String, count: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        try StoreChecks.assertAllDoneExactlyOnce(try store(name), count: count, file: file, line: line)
    }

    // MARK: Tests

    func testSweepCompletesWithOneNamedWorkerPerTaskAndTheirOwnLogs() throws {
        let job = try submit(try sweep("toy", trials: 40, seconds: 0.1), ["--ntasks=2"])
        XCTAssertEqual(waitForState(job, ["COMPLETED", "FAILED", "CANCELLED"], timeout: 120), "COMPLETED")
        XCTAssertEqual(jobField(job, "ExitCode"), "0:0")
        try assertAllDoneExactlyOnce("toy", count: 40)
        XCTAssertEqual(Set(try store("toy").report().trials.compactMap(\.worker)), ["slurm-\(job)-0", "slurm-\(job)-1"])
        for log in ["coordinator.log", "worker-0.log", "worker-1.log"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("slurm-jobs/\(job)/\(log)").path), log)
        }
    }

    /// `scontrol requeue` mid-sweep (what preemption with requeue does): the job stops cleanly,
    /// restarts, continues the same run from the snapshots and ends with every trial done once.
    func testRequeueMidSweepContinuesTheSameRun() throws {
        let job = try submit(try sweep("requeued", trials: 16, seconds: 1), ["--ntasks=2"])
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 90) { self.doneCount("requeued") >= 3 })
        Self.shell("scontrol requeue \(job)", environment: slurmEnvironment())
        waitForRequeue(job)
        XCTAssertEqual(waitForState(job, ["COMPLETED", "FAILED", "CANCELLED"], timeout: 120), "COMPLETED")
        XCTAssertEqual(jobField(job, "Restarts"), "1")
        try assertAllDoneExactlyOnce("requeued", count: 16)
        let events = try store("requeued").events()
        XCTAssertFalse(events.contains { $0.kind == "failed" })
        XCTAssertTrue(events.contains { $0.kind == "interrupted" }, "the running trials were handed back")
        let trials = try store("requeued").report().trials
        for event in events where event.kind == "resumes" {
            let trial = try XCTUnwrap(trials.first { $0.id == event.trial })
            XCTAssertGreaterThan(trial.metrics?["resumed_from_step"]?.intValue ?? 0, 0, "\(trial.id) went on from its snapshot")
        }
    }

    /// A study (pretrain -> finetune) requeued while the fine-tuning trains: the restarted job
    /// goes on from that trial's snapshot, and the study ends with every trial done once.
    func testRequeuedStudyContinuesTheTrainingFromItsSnapshot() throws {
        let dataset = "synthetic:classes=4,channels=1,size=28,train=2400,test=200,seed=9"
        let url = directory.appendingPathComponent("study.yaml")
        try """
            name: study
            seeds: [1]
            retries: 0
            stages:
              - name: pretrain
                job: pretrain
                parameters: {model: small-cnn, source: {dataset: "\(dataset)", classes: 0-1, epochs: 1}, batch_size: 32, attacks: []}
              - name: finetune
                job: finetune
                from: pretrain
                parameters:
                  model: small-cnn
                  target: {dataset: "\(dataset)", classes: 2-3, per_class: 500, epochs: 12}
                  batch_size: 32
                  attack_examples: 20
                  attacks: [{attack: fgsm, eps: [8/255]}]
            """.write(to: url, atomically: true, encoding: .utf8)
        let job = try submit(url, ["--ntasks=2"])
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 120) {
            ((try? self.store("study").events()) ?? []).contains { $0.kind == "leased" && $0.trial == "finetune-0000" }
        })
        Thread.sleep(forTimeInterval: 3) // well into its 12 epochs (about 380 steps)
        Self.shell("scontrol requeue \(job)", environment: slurmEnvironment())
        waitForRequeue(job)
        XCTAssertEqual(waitForState(job, ["COMPLETED", "FAILED", "CANCELLED"], timeout: 240), "COMPLETED")
        try assertAllDoneExactlyOnce("study", count: 2)
        let events = try store("study").events()
        let snapshot = try XCTUnwrap(events.first { $0.kind == "checkpoint" && $0.trial == "finetune-0000" }, "the fine-tuning stored a snapshot")
        let finetune = try XCTUnwrap(try store("study").report().trials.first { $0.id == "finetune-0000" })
        let step = try XCTUnwrap(finetune.metrics?["resumed_from_step"]?.intValue)
        XCTAssertGreaterThan(step, 0)
        XCTAssertTrue(snapshot.detail.hasSuffix("step \(step)"), "\(snapshot.detail) vs resumed from \(step)")
    }

    /// The time-limit warning (`--signal=B:TERM@120` sends SIGTERM to the batch script alone, as
    /// `scancel --batch --signal=TERM` does): a clean stop, then the job requeues itself.
    func testTimeLimitSignalStopsCleanlyAndRequeuesTheJob() throws {
        let job = try submit(try sweep("limit", trials: 16, seconds: 1), ["--ntasks=2"])
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 90) { self.doneCount("limit") >= 3 })
        Self.shell("scancel --batch --signal=TERM \(job)", environment: slurmEnvironment())
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 60) { self.jobField(job, "Restarts") == "1" }, "the job requeued itself")
        waitForRequeue(job)
        XCTAssertEqual(waitForState(job, ["COMPLETED", "FAILED", "CANCELLED"], timeout: 120), "COMPLETED")
        try assertAllDoneExactlyOnce("limit", count: 16)
        XCTAssertEqual(try store("limit").events().filter { $0.kind == "stopped" }.count, 1)
    }

    /// Every worker killed and none restarted: the job ends with a clear error within the idle
    /// timeout, not at its time limit.
    func testJobWhoseWorkersAllDiedEndsWithAClearError() throws {
        let job = try submit(try sweep("orphaned", trials: 20, seconds: 2), ["--ntasks=2"],
                             environment: ["RT_WORKER_RESTARTS": "0", "RT_IDLE_TIMEOUT": "4"])
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 90) {
            ((try? self.store("orphaned").events()) ?? []).filter { $0.kind == "worker-registered" }.count >= 2
        })
        Self.shell("pkill -KILL -f '[w]orker .*--name slurm-\(job)-'") // [w]: not this shell's own command line
        XCTAssertEqual(waitForState(job, ["COMPLETED", "FAILED", "CANCELLED"], timeout: 60), "FAILED")
        XCTAssertEqual(jobField(job, "ExitCode"), "4:0")
        let output = (try? String(contentsOf: directory.appendingPathComponent("rt-\(job).out"), encoding: .utf8)) ?? ""
        XCTAssertTrue(output.contains("no worker was connected"), output)
    }

    /// `scancel` (what a user does to stop a job): a clean stop; submitting the same command
    /// again continues the same run to every trial done once.
    func testScancelThenTheSameSubmissionContinues() throws {
        let sweep = try sweep("cancelled", trials: 16, seconds: 1)
        let job = try submit(sweep, ["--ntasks=2"])
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 90) { self.doneCount("cancelled") >= 3 })
        Self.shell("scancel \(job)", environment: slurmEnvironment())
        XCTAssertEqual(waitForState(job, ["CANCELLED", "COMPLETED", "FAILED"], timeout: 60), "CANCELLED")
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 30) { ((try? self.store("cancelled").counts()) ?? [:])[.leased] == nil },
                      "no trial is left leased")
        XCTAssertLessThan(doneCount("cancelled"), 16)
        let again = try submit(sweep, ["--ntasks=2"])
        XCTAssertEqual(waitForState(again, ["COMPLETED", "FAILED", "CANCELLED"], timeout: 120), "COMPLETED")
        try assertAllDoneExactlyOnce("cancelled", count: 16)
        XCTAssertTrue(try store("cancelled").events().contains { $0.kind == "interrupted" }, "the running trials were handed back")
    }

    /// `rt slurm submit`: a sweep that does not parse never reaches sbatch; an option Slurm
    /// refuses is reported in Slurm's own words.
    func testSubmitChecksTheSweepFirstAndReportsSlurmsRefusal() throws {
        let rt = try ProcessHarness.rtBinary().path
        try "name: broken\n".write(to: directory.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        let broken = Self.shell("'\(rt)' slurm submit broken.yaml", environment: slurmEnvironment(), in: directory)
        XCTAssertNotEqual(broken.status, 0)
        XCTAssertTrue(broken.output.contains("broken.yaml:1:1: stages"), broken.output)
        let good = try sweep("refused", trials: 2, seconds: 0.1)
        let refused = Self.shell("'\(rt)' slurm submit '\(good.path)' --partition nosuch", environment: slurmEnvironment(), in: directory)
        XCTAssertEqual(refused.status, 2, refused.output)
        XCTAssertTrue(refused.output.contains("sbatch refused the sweep's job") && refused.output.contains("invalid partition specified: nosuch"), refused.output)
        XCTAssertEqual(Self.shell("squeue -h", environment: slurmEnvironment()).output.trimmingCharacters(in: .whitespacesAndNewlines), "",
                       "nothing was queued")
    }

    /// `rt slurm submit --array-workers 2`: a job array's workers join the running job's
    /// coordinator and share the sweep; the array tasks end with the sweep.
    func testArrayWorkersJoinTheRunningJob() throws {
        let rt = try ProcessHarness.rtBinary().path
        let sweep = try sweep("grown", trials: 24, seconds: 1)
        let submitted = Self.shell("'\(rt)' slurm submit '\(sweep.path)' --ntasks 1 --array-workers 2", environment: slurmEnvironment(), in: directory)
        XCTAssertEqual(submitted.status, 0, submitted.output)
        let ids = submitted.output.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            if line.hasPrefix("submitted job ") { return String(words[2]).trimmingCharacters(in: CharacterSet(charactersIn: ":")) }
            if line.contains("as array job ") { return words.firstIndex(of: "job").map { String(words[$0 + 1]).trimmingCharacters(in: CharacterSet(charactersIn: ";")) } }
            return nil
        }
        XCTAssertEqual(ids.count, 2, submitted.output)
        let (job, array) = (ids[0], ids[1])
        XCTAssertEqual(waitForState(job, ["COMPLETED", "FAILED", "CANCELLED"], timeout: 120), "COMPLETED")
        try assertAllDoneExactlyOnce("grown", count: 24)
        var trialsByWorker: [String: Int] = [:]
        for trial in try store("grown").report().trials { trialsByWorker[trial.worker ?? "", default: 0] += 1 }
        for name in ["slurm-\(job)-0", "slurm-\(job)-array-0", "slurm-\(job)-array-1"] {
            XCTAssertGreaterThan(trialsByWorker[name] ?? 0, 0, "\(name) ran trials: \(trialsByWorker)")
        }
        for task in ["0", "1"] {
            XCTAssertEqual(waitForState("\(array)_\(task)", ["COMPLETED", "FAILED", "CANCELLED"], timeout: 30), "COMPLETED", "array task \(task)")
        }
    }

    /// Two jobs at once, each with its own port and keys: each run is served by its own workers only.
    func testTwoJobsAtOnceDoNotInterfere() throws {
        let first = try submit(try sweep("first", trials: 20, seconds: 0.2), ["--ntasks=1"])
        let second = try submit(try sweep("second", trials: 20, seconds: 0.2), ["--ntasks=1"])
        for job in [first, second] {
            XCTAssertEqual(waitForState(job, ["COMPLETED", "FAILED", "CANCELLED"], timeout: 120), "COMPLETED", job)
        }
        try assertAllDoneExactlyOnce("first", count: 20)
        try assertAllDoneExactlyOnce("second", count: 20)
        XCTAssertEqual(Set(try store("first").report().trials.compactMap(\.worker)), ["slurm-\(first)-0"])
        XCTAssertEqual(Set(try store("second").report().trials.compactMap(\.worker)), ["slurm-\(second)-0"])
    }

    /// A second job on a run that a live job serves changes nothing: its coordinator is refused
    /// with exit status 75 (docs/CLI.md), the job fails with it and says why; the first job
    /// finishes the run, every trial once.
    func testASecondJobOnALiveRunFailsWithSeventyFive() throws {
        let shared = try sweep("shared", trials: 20, seconds: 0.5)
        let first = try submit(shared, ["--ntasks=1"])
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 60) { self.doneCount("shared") >= 1 }, "the first job's run started")
        let second = try submit(shared, ["--ntasks=1"])
        XCTAssertEqual(waitForState(second, ["COMPLETED", "FAILED", "CANCELLED"], timeout: 120), "FAILED")
        XCTAssertEqual(jobField(second, "ExitCode"), "75:0")
        let said = (try? String(contentsOf: directory.appendingPathComponent("rt-\(second).out"), encoding: .utf8)) ?? ""
        XCTAssertTrue(said.contains("another coordinator serves this run"), said)
        XCTAssertEqual(waitForState(first, ["COMPLETED", "FAILED", "CANCELLED"], timeout: 120), "COMPLETED")
        try assertAllDoneExactlyOnce("shared", count: 20)
    }
}
