import ArgumentParser

/// How many trials a worker runs at once (`rt worker`, and each worker of `rt run`).
/// `--threads` is the engine's threads in every other command, so here it is only a hidden,
/// deprecated spelling of `--concurrency` that still works and says so (docs/CLI.md).
struct TrialConcurrencyOptions: ParsableArguments {
    @Option(name: .long, help: "Trials each worker runs at once (a trial's engine threads are its job's `threads` parameter).")
    var concurrency: Int?

    @Option(name: .long, help: ArgumentHelp("Deprecated spelling of --concurrency.", visibility: .hidden))
    var threads: Int?

    @Option(name: .long, help: "Trials each worker holds queued beyond --concurrency (hides the dispatch latency of short trials).")
    var prefetch: Int = 0

    func validate() throws {
        try DeprecatedSpelling(command: "", old: "--threads", new: "--concurrency").checkNotBoth(concurrency, threads)
        let trials = concurrency ?? threads ?? 1
        guard trials >= 1 else { throw ValidationError("--concurrency must be at least 1, got \(trials)") }
        guard prefetch >= 0 else { throw ValidationError("--prefetch must be 0 or more, got \(prefetch)") }
    }

    /// Trials at once (1 when not given); says so on standard error when `command` was given the old spelling.
    func trialsAtOnce(_ command: String) -> Int {
        DeprecatedSpelling(command: command, old: "--threads", new: "--concurrency").value(concurrency, threads) ?? 1
    }
}
