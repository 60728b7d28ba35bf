import Cluster
import Foundation

/// What `rt run`, `rt study` and `rt evaluate` print with `--json` when the sweep ends: one line
/// with the run's trial counts from its store, and what the command added or wrote.
struct RunOutcome: Encodable {
    var sweep: String
    var runDirectory: String
    var total: Int
    /// Trials per state (pending, leased, done, failed), every state named.
    var counts: [String: Int]
    /// The exit status the command ends with (docs/CLI.md): 0 all done, 3 some trials failed.
    var status: Int32
    var seconds: Double
    /// Stages appended before the run (`rt evaluate`, `rt run --append`).
    var appended: Appended?
    /// The reports written next to the store (`rt study`, `rt evaluate`).
    var reports: Reports?

    struct Appended: Encodable {
        var stages: [String]
        var trials: Int
        var unchanged: [String]

        init(_ result: StageAppendResult) {
            (stages, trials, unchanged) = (result.added, result.trials.count, result.unchanged)
        }
    }

    struct Reports: Encodable {
        var html: String
        var markdown: String
    }

    /// Read from the store of `runDirectory` (read-only).
    init(runDirectory: URL, status: Int32, seconds: Double, appended: StageAppendResult? = nil, reports: Reports? = nil) throws {
        let store = try RunStore(path: RunStore.url(runDirectory: runDirectory).path, readOnly: true)
        let stored = try store.counts()
        sweep = try store.sweep()?.name ?? runDirectory.lastPathComponent
        self.runDirectory = runDirectory.path
        counts = Dictionary(uniqueKeysWithValues: TrialState.allCases.map { ($0.rawValue, stored[$0] ?? 0) })
        total = stored.values.reduce(0, +)
        self.status = status
        self.seconds = seconds
        self.appended = appended.map(Appended.init)
        self.reports = reports
    }
}
