import ArgumentParser
import Cluster
import Foundation

struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "Run the robustness-transfer study on a local cluster, then print its summary.",
        discussion: """
        With no sweep file, runs cluster/sweeps/default.yaml: Fashion-MNIST classes 0-4 -> 5-9, small-cnn,
        roles standard, finetune, dm and trades, one source model and 4 target seeds, PGD-10 and FGSM from 1/255 to 32/255,
        and AutoAttack at 8/255 on the four target roles (docs/STUDY.md).
        The run is stored in RUNS/<sweep>; the summary table is printed and the HTML report written next to it.
        """)

    @Argument(help: "The study's sweep file (default: cluster/sweeps/default.yaml).")
    var sweep: String?

    @Option(name: .long, help: "Worker processes to start.")
    var workers: Int = 2

    @Option(name: .long, help: "Directory that holds the run directories.")
    var runs: String = "runs"

    @Flag(name: .long, help: "Continue the run stored in RUNS/<sweep> (finished trials are not re-run).")
    var resume = false

    @Flag(name: .customLong("create-or-resume"), help: "Continue the study stored in RUNS/<sweep> if there is one, else start it.")
    var createOrResume = false

    @Flag(name: .long, help: "No progress display.")
    var quiet = false

    @OptionGroup var logging: LogOptions

    @Flag(name: .long, help: "Print one JSON object when the study ends (trial counts, report files) instead of the summary.")
    var json = false

    func validate() throws {
        try LocalCluster.validate(workers: workers)
    }

    func run() throws {
        let sweepPath = try sweep ?? Self.defaultSweep()
        // Parsed, counted and its job types checked before any process starts.
        let (spec, _) = try SweepCheck.summary(of: sweepPath)
        let runDirectory = URL(fileURLWithPath: runs).appendingPathComponent(spec.name)
        try LocalCluster.refuseIfServed(runDirectory)
        if !resume && !createOrResume && FileManager.default.fileExists(atPath: RunStore.url(runDirectory: runDirectory).path) {
            throw CommandFailure("\(runDirectory.path) already holds this study: --resume continues it (nothing finished is re-run) and prints its report; --runs DIR starts a new one elsewhere")
        }
        let cluster = LocalCluster(workers: workers, concurrency: 1, prefetch: 0, runsDirectory: runs,
                                   heartbeat: try HeartbeatOptions.parse([]), quiet: quiet, childLogging: try logging.childArguments(), childOutput: !json,
                                   continueCommand: ContinueCommand.current(adding: createOrResume ? nil : "--resume"))
        let started = Date()
        let status = try cluster.run(.sweep(path: sweepPath, resume: resume, createIfMissing: createOrResume))
        // A sweep with failed trials still has a report of what finished; the exit status says it failed.
        if FileManager.default.fileExists(atPath: RunStore.url(runDirectory: runDirectory).path) {
            let seconds = Date().timeIntervalSince(started)
            if json {
                let files = try StudySummary.write(runDirectory: runDirectory).files
                try JSONLines.print(RunOutcome(runDirectory: runDirectory, status: status, seconds: seconds, reports: files))
            } else {
                try StudySummary.print(runDirectory: runDirectory, wallSeconds: seconds)
            }
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// `cluster/sweeps/default.yaml` of the working directory, else of the checkout this `rt` was built in.
    static func defaultSweep() throws -> String {
        try CheckoutFile.find("cluster/sweeps/default.yaml", what: "pass a sweep file")
    }
}
