import Foundation

/// Job types that exercise the cluster without the tensor engine:
///
/// - `sleep`: waits `seconds` (default 0), in slices so cancellation is noticed; told to stop,
///   it stores a snapshot (step = milliseconds slept) that a resumed attempt goes on from.
///   Metrics `slept`, `resumed_from_step`.
/// - `sum`: adds the numbers in `values` (plus `add`), plus every parent artifact's value for a
///   `from:` stage; produces an artifact holding the sum, padded to `artifact_bytes` so the
///   chunked transfer can be tested at any size; waits `delay` seconds first (default 0) so a
///   trial can be caught in flight. Metric `sum`; mask `positive` (one byte per value).
/// - `fail-once`: fails its first attempt, succeeds on the next. Tests retry budgets.
/// - `crash`: kills its worker process on attempts up to `crash_attempts` (default: always).
///   Tests lease recovery when a worker dies mid-trial.
public enum ToyJobs {
    public static func register(into registry: inout JobRegistry) {
        registry.register("sleep", ClosureJobHandler { try sleep($0) })
        registry.register("sum", ClosureJobHandler { try sum($0) })
        registry.register("fail-once", ClosureJobHandler { try failOnce($0) })
        registry.register("crash", ClosureJobHandler { try crash($0) })
    }

    static func sleep(_ context: JobContext) throws -> JobOutcome {
        let seconds = context.parameters["seconds"]?.doubleValue ?? 0
        guard seconds >= 0 else { throw JobError("sleep: parameter seconds must be >= 0, got \(seconds)") }
        // A snapshot's step is the milliseconds already slept: a resumed attempt sleeps the rest.
        let alreadySlept = Double(context.resume?.step ?? 0) / 1000
        let started = Date()
        let deadline = started.addingTimeInterval(max(0, seconds - alreadySlept))
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { break }
            if context.cancellation.stopRequested, let save = context.saveCheckpoint {
                let slept = alreadySlept + Date().timeIntervalSince(started)
                save(Data("{\"slept\": \(slept)}".utf8), Int(slept * 1000))
                throw JobError("sleep: stopped after \(String(format: "%.2f", slept)) s of \(seconds)")
            }
            if context.cancellation.isCancelled { throw JobError("sleep: cancelled") }
            if seconds > 0 { context.progress(1 - left / seconds, "sleeping") }
            Thread.sleep(forTimeInterval: min(left, 0.05))
        }
        return JobOutcome(metrics: ["slept": .double(seconds), "seed": .int(context.seed), "resumed_from_step": .int(context.resume?.step ?? 0)])
    }

    static func sum(_ context: JobContext) throws -> JobOutcome {
        if let delay = context.parameters["delay"]?.doubleValue, delay > 0 { Thread.sleep(forTimeInterval: delay) }
        var values: [Double] = []
        if let list = context.parameters["values"] {
            guard let array = list.arrayValue, let numbers = Optional(array.compactMap(\.doubleValue)), numbers.count == array.count else {
                throw JobError("sum: parameter values must be a list of numbers, got \(list)")
            }
            values = numbers
        }
        if let add = context.parameters["add"] {
            guard let number = add.doubleValue else { throw JobError("sum: parameter add must be a number, got \(add)") }
            values.append(number)
        }
        var total = values.reduce(0, +)
        for parent in context.parentArtifacts {
            let header = String(decoding: parent.bytes.prefix { $0 != 0x0a }, as: UTF8.self)
            guard header.hasPrefix("sum="), let value = Double(header.dropFirst(4)) else {
                throw JobError("sum: artifact of parent trial \(parent.trialID) does not start with a sum= line")
            }
            total += value
        }
        var bytes = Data("sum=\(total)\n".utf8)
        let padding = context.parameters["artifact_bytes"]?.intValue ?? 0
        if padding > bytes.count {
            // Seeded filler, so every chunk differs and a misplaced chunk fails the hash check.
            var generator = SplitMix64(seed: UInt64(truncatingIfNeeded: context.seed) &+ 1)
            var filler = [UInt8](repeating: 0, count: padding - bytes.count)
            for i in filler.indices { filler[i] = UInt8(truncatingIfNeeded: generator.next()) }
            bytes.append(contentsOf: filler)
        }
        let positive = Data(values.map { $0 > 0 ? 1 : 0 })
        return JobOutcome(metrics: ["sum": .double(total), "count": .int(values.count)],
                          masks: ["positive": positive], artifact: (name: "sum.txt", bytes: bytes))
    }

    static func failOnce(_ context: JobContext) throws -> JobOutcome {
        if context.attempt <= 1 { throw JobError("fail-once: failing attempt \(context.attempt) on purpose") }
        return JobOutcome(metrics: ["attempt": .int(context.attempt)])
    }

    static func crash(_ context: JobContext) throws -> JobOutcome {
        let crashAttempts = context.parameters["crash_attempts"]?.intValue ?? Int.max
        if context.attempt <= crashAttempts {
            // Die the way a segfault or OOM kill would: no goodbye message, no cleanup.
            kill(getpid(), SIGKILL)
        }
        return JobOutcome(metrics: ["attempt": .int(context.attempt)])
    }
}
