import ArgumentParser
import Cluster
import Foundation
import Jobs
import Robustness
import Study

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Run a new attack suite on every checkpoint of a stored study, as new trials of the same run.",
        discussion: """
        Appends one `evaluate` stage per trained stage (named <stage>-eval-<hash of the attack settings>) to the
        run's store and runs it on a local cluster; the report then shows the new attacks in the rows of the
        trials they measured. Running the same command again adds nothing (the results are keyed by the attack
        configuration); a stronger attack never needs retraining. --attack corruption with --kinds and \
        --severities evaluates common corruptions instead (docs/ROBUSTNESS.md).
        """)

    @Argument(help: "The run directory, e.g. runs/default.")
    var runDirectory: String

    @Option(help: "fgsm, pgd, mifgsm, di-mifgsm, cw, uap, apgd-ce, apgd-t, apgd-dlr, square, autoattack, autoattack-rand or corruption.") var attack = "pgd"
    @Option(help: "linf or l2.") var norm: AttackNorm = .linf
    @Option(help: "Budgets, e.g. 8/255,16/255 (not for corruption).") var eps: String?
    @Option(help: "Corruptions for --attack corruption, comma-separated (default: all that apply).") var kinds: String?
    @Option(help: "Corruption severities 1-5, comma-separated (default 1,2,3,4,5).") var severities: String?
    @Option(help: "Iterations (PGD, MI-FGSM, CW, APGD), passes (UAP), or Square's query budget.") var steps = 10
    @Option(help: "Square's query budget (square: default --steps; autoattack: default 50 x --steps).") var queries: Int?
    @Option(name: .customLong("eot-iterations"), help: "Passes each APGD iteration averages (autoattack-rand: default 20; APGD: default 1).") var eotIterations: Int?
    @Option(name: .customLong("step-size"), help: "Step size (default 2.5·eps/steps).") var stepSize: String?
    @Option(name: .customLong("diversity-prob"), help: "di-mifgsm: probability of a resized and padded input per step (default 0.5).") var diversityProb: Double?
    @Option(name: .customLong("resize-rate"), help: "di-mifgsm: the input shrinks to a side in [rate x H, H) (default 0.9).") var resizeRate: Double?
    @Option(help: "Restarts; each example keeps its worst case.") var restarts = 1
    @Flag(inversion: .prefixedNo, help: "Start from a random point of the eps-ball.") var randomStart = true
    @Option(help: "Attack a seeded subset of this many test images (default: the whole test split).") var examples: Int?
    @Option(help: ArgumentHelp("Deprecated spelling of --examples.", visibility: .hidden)) var limit: Int?
    @Option(help: "Seed of the attacked subset, the attacks' random starts and the corruptions (default 0).") var seed: Int?
    @Option(name: .customLong("attack-seed"), help: ArgumentHelp("Deprecated spelling of --seed.", visibility: .hidden)) var attackSeed: Int?
    @Option(help: "Only these stages (comma-separated; default every stage that trained a model).") var stages: String?
    @Option(name: .long, help: "Worker processes to start.") var workers = 2
    @Flag(name: .long, help: "No progress display.") var quiet = false
    @OptionGroup var logging: LogOptions
    @Flag(name: .long, help: "Print one JSON object when the evaluation ends (stages appended, trial counts, report files) instead of the summary.") var json = false

    /// The attack suite is read and checked (by the evaluate job's own reader) before anything is opened.
    private static let oldSeed = DeprecatedSpelling(command: "rt evaluate", old: "--attack-seed", new: "--seed")
    private static let oldExamples = DeprecatedSpelling(command: "rt evaluate", old: "--limit", new: "--examples")

    func validate() throws {
        try Self.oldSeed.checkNotBoth(seed, attackSeed)
        try Self.oldExamples.checkNotBoth(examples, limit)
        try LocalCluster.validate(workers: workers)
        _ = try UsageCheck.reading { try parameters() }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: runDirectory)
        let store = try LocalCluster.openStore(directory)
        guard let sweep = try store.sweep() else { throw CommandFailure("\(runDirectory) holds no sweep") }
        let trained = sweep.stages.filter { StudyRole(rawValue: $0.job) != nil }.map(\.name)
        let chosen = stages.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? trained
        if let unknown = chosen.first(where: { !trained.contains($0) }) {
            throw CommandFailure("--stages: \(unknown) is not a stage that trained a model in \(runDirectory); those are \(trained.joined(separator: ", "))")
        }
        guard !chosen.isEmpty else { throw CommandFailure("\(runDirectory) has no stage that trained a model") }
        let parameters = try self.parameters(noting: true)
        let key = String(SHA256.hex(Data(ClusterJSON.string(JSONValue.object(parameters)).utf8)).prefix(8))
        // One evaluation per trained trial: a stage with its own seeds (one pre-training for the
        // whole study) is evaluated at those seeds, not fanned out to the sweep's.
        let appended = chosen.map { name in
            StageSpec(name: "\(name)-eval-\(key)", job: StudyAnalysisJob.evaluate.rawValue, parameters: parameters, from: [name],
                      seeds: sweep.stages.first { $0.name == name }?.seeds)
        }
        let cluster = LocalCluster(workers: workers, concurrency: 1, prefetch: 0, runsDirectory: directory.deletingLastPathComponent().path,
                                   heartbeat: try HeartbeatOptions.parse([]), quiet: quiet, childLogging: try logging.childArguments(), childOutput: !json,
                                   continueCommand: ContinueCommand.current()) // appending again adds nothing
        let started = Date()
        let (result, status) = try cluster.appendAndRun(appended, to: directory)
        let seconds = Date().timeIntervalSince(started)
        if json {
            let files = try StudySummary.write(runDirectory: directory).files
            try JSONLines.print(RunOutcome(runDirectory: directory, status: status, seconds: seconds, appended: result, reports: files))
        } else {
            if !quiet {
                print("appended \(result.added.count) stage(s), \(result.trials.count) trial(s); \(result.unchanged.count) already there")
            }
            try StudySummary.print(runDirectory: directory, wallSeconds: seconds)
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// The evaluate stage's parameters; a bad eps or an attack without that norm fails here.
    /// `noting`: say so on standard error when an old spelling was used (once, from run()).
    func parameters(noting: Bool = false) throws -> [String: JSONValue] {
        let suite = try attack == CorruptionOptions.attackName ? corruptionEntry() : attackEntry()
        let seed = noting ? Self.oldSeed.value(self.seed, attackSeed) : self.seed ?? attackSeed
        let examples = noting ? Self.oldExamples.value(self.examples, limit) : self.examples ?? limit
        var parameters: [String: JSONValue] = ["attacks": .array([.object(suite)]), "attack_seed": .int(seed ?? 0)]
        if let examples { parameters["attack_examples"] = .int(examples) }
        try StudyAnalysisJob.evaluate.validate(parameters)
        return parameters
    }

    /// The sweep's `attacks:` entry of an attack: `{attack, norm, eps, steps, ...}`.
    func attackEntry() throws -> [String: JSONValue] {
        guard AttackKind(rawValue: attack) != nil else {
            throw ValidationError("--attack: unknown attack '\(attack)'; known: \(AttackKind.allCases.map(\.rawValue).joined(separator: ", ")), \(CorruptionOptions.attackName)")
        }
        guard let eps else { throw ValidationError("--eps: missing: the budgets of \(attack), e.g. 8/255,16/255") }
        if kinds != nil || severities != nil { throw ValidationError("--kinds and --severities are for --attack corruption") }
        let epsValues = eps.split(separator: ",").map { JSONValue.string($0.trimmingCharacters(in: .whitespaces)) }
        var suite: [String: JSONValue] = ["attack": .string(attack), "norm": .string(norm.rawValue), "eps": .array(epsValues),
                                          "steps": .int(steps), "restarts": .int(restarts), "random_start": .bool(randomStart)]
        if let stepSize { suite["step_size"] = .string(stepSize) }
        if let queries { suite["queries"] = .int(queries) }
        if let eotIterations { suite["eot_iterations"] = .int(eotIterations) }
        if let diversityProb { suite["diversity_prob"] = .double(diversityProb) }
        if let resizeRate { suite["resize_rate"] = .double(resizeRate) }
        return suite
    }

    /// `{attack: corruption, kinds: [...], severities: [...]}`; the evaluate job's reader checks the names.
    func corruptionEntry() throws -> [String: JSONValue] {
        if eps != nil { throw ValidationError("--eps is for attacks; corruptions take --kinds and --severities") }
        if diversityProb != nil || resizeRate != nil { throw ValidationError("--diversity-prob and --resize-rate are for --attack di-mifgsm") }
        var suite: [String: JSONValue] = ["attack": .string(attack)]
        if let kinds { suite["kinds"] = .array(kinds.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) }) }
        if let severities {
            suite["severities"] = .array(try severities.split(separator: ",").map { part in
                guard let level = Int(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--severities: '\(part)' is not a whole number from 1 to 5") }
                return .int(level)
            })
        }
        return suite
    }
}

extension AttackKind: ExpressibleByArgument {}
