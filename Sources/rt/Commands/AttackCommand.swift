import ArgumentParser
import Datasets
import Foundation
import NeuralNetworks
import Robustness
import Study
import TensorEngine

struct AttackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attack",
        abstract: "Robust accuracy of a checkpoint under adversarial attacks, per (attack, eps).",
        discussion: """
        Several attacks (--attack fgsm,pgd) and budgets (--eps 1/255,2/255,8/255) are evaluated on the \
        same examples; the worst case per example is over all of them. With --source-checkpoint the \
        adversarial examples are crafted on that model (transfer); when its classes differ from the \
        evaluated model's they are crafted on its penultimate features.

        AutoAttack's attacks: apgd-ce (APGD on cross-entropy), apgd-t (APGD on the targeted DLR loss, 9 \
        target classes), square (score-based, no gradients) and autoattack (the three in sequence, each \
        on the examples the ones before left correct; FAB-T is not implemented). For them --steps is \
        APGD's iterations and square's query budget (unless --queries is given); autoattack's Square \
        takes --queries (default 50 x --steps). AutoAttack's standard version is --attack autoattack --steps 100 --queries 5000. \
        They choose their own step sizes and random starts and attack the evaluated model itself. \
        See docs/ROBUSTNESS.md.

        Input diversity: di-mifgsm is MI-FGSM whose every gradient is taken, with probability \
        --diversity-prob (default 0.5), at the batch shrunk to a random side in [--resize-rate x H, H) \
        (default 0.9) and zero-padded back at a random place (Xie et al. 2019, torchattacks' DIFGSM); \
        with --source-checkpoint it crafts transfer attacks.

        Common corruptions: --attack corruption (alone or with attacks) with --kinds gaussian_noise,contrast \
        (default: every kind that applies to the images) and --severities 1,3,5 (default 1-5): \
        ImageNet-C's functions with CIFAR-10-C's severities, seeded by --seed. Their robust_accuracy is the \
        accuracy on the corrupted images; the worst case is over the attacks only.
        """)

    @Option(help: "The checkpoint to attack (safetensors).") var checkpoint: String
    @Option(help: "Dataset name (fashion-mnist, mnist, cifar10, cifar100, digits, synthetic[:k=v,...]) or path.") var dataset: String
    @Option(help: "Classes of the task (as at training).") var classes: String?
    @Option(help: "Split to attack: train or test.") var split = DatasetSplit.test
    @Option(help: "Attack the first N examples only.") var limit: Int?
    @Option(help: "fgsm, pgd, mifgsm, di-mifgsm, cw, uap, apgd-ce, apgd-t, square, autoattack or corruption; a comma-separated list for several.") var attack = "pgd"
    @Option(help: "linf or l2.") var norm = AttackNorm.linf
    @Option(help: "Budgets in pixel units, fractions allowed: 8/255 or 1/255,2/255,4/255.") var eps = "8/255"
    @Option(help: "Iterations (PGD, MI-FGSM, DI-MI-FGSM, CW, APGD), passes over the data (UAP), or Square's query budget.") var steps = 10
    @Option(help: "Square's query budget per example (square: default --steps; autoattack: default 50 x --steps).") var queries: Int?
    @Option(name: .customLong("step-size"), help: "Step size (default 2.5·eps/steps; MI-FGSM and DI-MI-FGSM eps/steps; UAP eps/4).") var stepSize: String?
    @Option(name: .customLong("diversity-prob"), help: "di-mifgsm: probability that a step's gradient is taken at a resized and padded input (default 0.5).") var diversityProb: Float?
    @Option(name: .customLong("resize-rate"), help: "di-mifgsm: the input shrinks to a side in [rate x H, H), rate in (0, 1) (default 0.9).") var resizeRate: Float?
    @Option(help: "Random restarts; each example keeps its worst case.") var restarts = 1
    @Flag(inversion: .prefixedNo, help: "Start PGD and CW at a random point of the eps-ball.") var randomStart = true
    @Option(help: "Seed of the random starts and restarts, UAP's example order, and the corruptions' randomness.") var seed: UInt64 = 0
    @Option(name: .customLong("source-checkpoint"), help: "Craft the examples on this model and evaluate them on --checkpoint.") var sourceCheckpoint: String?
    @Option(name: .customLong("transfer-space"), help: "logits or features (default: logits when the source has the same classes, features otherwise).") var transferSpace: CraftingSpace?
    @Option(help: "Corruptions for --attack corruption, comma-separated (default: all that apply).") var kinds: String?
    @Option(help: "Corruption severities 1-5, comma-separated (default 1,2,3,4,5).") var severities: String?
    @Option(name: .customLong("batch-size"), help: "Examples attacked at once.") var batchSize = 128
    @Option(help: "Threads the engine uses.") var threads = 2
    @Option(name: .customLong("data-dir"), help: "Where datasets are looked for (default $RT_DATA_DIR).") var dataDirectory: String?
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    /// What the command line asks for: the attacks (one per attack and eps) and the corruptions.
    struct Plan {
        var attacks: [AttackSpec]
        var corruptions: CorruptionSuite?
    }

    /// Everything that can be wrong with the arguments is a usage error, found before a model is loaded.
    func validate() throws {
        _ = try UsageCheck.reading(plan)
    }

    func plan() throws -> Plan {
        let budgets = try EpsilonParser.parseList(eps, name: "--eps")
        let step = try stepSize.map { try EpsilonParser.parse($0, name: "--step-size") }
        let names = attack.split(separator: ",").map(String.init)
        let corruptions = try CorruptionOptions.suite(asked: names.contains(CorruptionOptions.attackName), kinds: kinds,
                                                      severities: severities, seed: seed)
        let kinds = try names.filter { $0 != CorruptionOptions.attackName }.map { name -> AttackKind in
            guard let kind = AttackKind(rawValue: String(name)) else {
                throw ValidationError("unknown attack '\(name)'; known: \(AttackKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return kind
        }
        let diversity = diversityProb == nil && resizeRate == nil ? nil
            : InputDiversity(probability: diversityProb ?? InputDiversity.defaultProbability, resizeRate: resizeRate ?? InputDiversity.defaultResizeRate)
        let specs = kinds.flatMap { kind in
            budgets.map { AttackSpec(kind: kind, norm: norm, eps: $0, steps: steps, stepSize: step, restarts: restarts,
                                     randomStart: randomStart, seed: seed,
                                     queries: kind == .square || kind == .autoattack ? queries : nil,
                                     diversity: kind == .diMIFGSM ? diversity : nil) }
        }
        if let queries, !kinds.contains(.square) && !kinds.contains(.autoattack) {
            throw ValidationError("--queries \(queries): only square and autoattack take a query budget")
        }
        if diversity != nil && !kinds.contains(.diMIFGSM) {
            throw ValidationError("--diversity-prob and --resize-rate: only di-mifgsm takes input diversity")
        }
        for spec in specs { try spec.validate() }
        if specs.isEmpty && corruptions == nil { throw ValidationError("--attack: name at least one attack or corruption") }
        if specs.isEmpty && sourceCheckpoint != nil { throw ValidationError("--source-checkpoint: corruptions are not crafted on a model; transfer is for attacks") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
        if transferSpace != nil && sourceCheckpoint == nil { throw ValidationError("--transfer-space needs --source-checkpoint") }
        return Plan(attacks: specs, corruptions: corruptions)
    }

    func run() throws {
        let plan = try self.plan()
        let (specs, corruptions) = (plan.attacks, plan.corruptions)
        Parallel.threads = threads
        let (model, _) = try Checkpoint.load(checkpoint)
        let source = try sourceCheckpoint.map { try Checkpoint.load($0).model }
        let data = try EvaluationData.load(dataset: dataset, classes: classes, split: split, limit: limit,
                                           for: model, dataDirectory: dataDirectory)
        let space = transferSpace ?? (source.map { $0.modelDescription.numClasses == model.modelDescription.numClasses } ?? true
                                      ? .logits : .features)
        let corruptionSpecs: [CorruptionSpec]
        do { corruptionSpecs = try corruptions?.specs(channels: data.channels) ?? [] } catch let RobustnessError.invalidSetting(name, reason) {
            // Known only once the images are loaded: a kind may not apply to their channels.
            throw CommandFailure("--\(name): \(reason)")
        }
        if !corruptionSpecs.isEmpty { try CorruptionEvaluator.validate(model, on: data, corruptions: corruptionSpecs) }
        let report = specs.isEmpty ? nil : try RobustnessEvaluator(batchSize: batchSize).evaluate(model, on: data, attacks: specs,
                                                                                                   craftingModel: source, craftingSpace: space)
        let corrupted = corruptionSpecs.isEmpty ? nil : try CorruptionEvaluator(batchSize: batchSize).evaluate(model, on: data, corruptions: corruptionSpecs)
        print(json ? AttackReportFormat.json(report, corruptions: corrupted) : AttackReportFormat.table(report, corruptions: corrupted))
    }
}

extension AttackNorm: ExpressibleByArgument {}
extension CraftingSpace: ExpressibleByArgument {}

/// How `rt attack` prints a report: the issue's JSON, or a table for people.
enum AttackReportFormat {
    static func json(_ report: RobustnessReport?, corruptions: CorruptionReport?) -> String {
        let results = (report?.results ?? []).map { r in
            "{\"attack\": \(quoted(r.attack)), \"norm\": \(quoted(r.norm)), \"eps\": \(r.eps), \"steps\": \(r.steps), "
                + "\"robust_accuracy\": \(r.robustAccuracy), \"success_rate\": \(r.successRate), "
                + "\"mean_true_confidence_clean\": \(r.meanTrueConfidenceClean), \"mean_true_confidence_adv\": \(r.meanTrueConfidenceAdversarial), "
                // Time of this attack alone (crafting + judging its result; not data loading or the clean pass),
                // so scripts/bench/robustness.sh can compare it with `rt bench engine`.
                + "\"seconds\": \(r.seconds), \"cpu_seconds\": \(r.cpuSeconds)" + components(r) + "}"
        }
        let clean = report?.cleanAccuracy ?? corruptions?.cleanAccuracy ?? 0
        let examples = report?.examples ?? corruptions?.examples ?? 0
        return "{\"clean_accuracy\": \(clean), \"examples\": \(examples), "
            + "\"results\": [\((results + CorruptionReportFormat.jsonResults(corruptions)).joined(separator: ", "))], "
            + CorruptionReportFormat.jsonSummary(corruptions)
            + "\"warnings\": [\((report?.warnings ?? []).map(quoted).joined(separator: ", "))]}"
    }

    /// AutoAttack's components, in the order they ran, each with the robust accuracy after it.
    static func components(_ r: AttackResult) -> String {
        guard let components = r.components else { return "" }
        let items = components.map { c in
            "{\"attack\": \(quoted(c.attack)), \"steps\": \(c.steps), \"robust_accuracy\": \(c.robustAccuracy), \"seconds\": \(c.seconds)}"
        }
        return ", \"components\": [\(items.joined(separator: ", "))]"
    }

    static func table(_ report: RobustnessReport?, corruptions: CorruptionReport?) -> String {
        guard let report else { return CorruptionReportFormat.table(corruptions!, withClean: true) }
        var lines = [String(format: "clean accuracy %.2f%%  (%d examples)", 100 * report.cleanAccuracy, report.examples),
                     "attack     norm  eps        steps  robust acc  success  conf clean  conf adv  images/s  img/CPU-s"]
        for r in report.results {
            let name = r.attack.padding(toLength: 10, withPad: " ", startingAt: 0) + " " + r.norm.padding(toLength: 5, withPad: " ", startingAt: 0)
                + " " + fraction(r.eps).padding(toLength: 10, withPad: " ", startingAt: 0)
            lines.append(name + String(format: " %5d  %9.2f%%  %6.2f%%  %10.4f  %8.4f  %8.1f  %9.1f", r.steps,
                                       100 * r.robustAccuracy, 100 * r.successRate, r.meanTrueConfidenceClean,
                                       r.meanTrueConfidenceAdversarial, Double(report.examples) / max(r.seconds, 1e-9),
                                       Double(report.examples) / max(r.cpuSeconds, 1e-9)))
            for c in r.components ?? [] {
                lines.append("  after " + c.attack.padding(toLength: 7, withPad: " ", startingAt: 0)
                             + String(format: "%*d  %9.2f%%  (%.1f s)", 18, c.steps, 100 * c.robustAccuracy, c.seconds))
            }
        }
        if report.results.count > 1 { lines.append(String(format: "worst case over all attacks: %.2f%%", 100 * report.worstCaseAccuracy)) }
        for warning in report.warnings { lines.append("warning: " + warning) }
        if let corruptions { lines.append(CorruptionReportFormat.table(corruptions, withClean: false)) }
        return lines.joined(separator: "\n")
    }

    /// 0.031372 reads better as 8/255.
    static func fraction(_ eps: Float) -> String {
        if eps == 0 { return "0" }
        let n = eps * 255
        return abs(n - n.rounded()) < 1e-4 ? "\(Int(n.rounded()))/255" : "\(eps)"
    }

    static func quoted(_ s: String) -> String {
        String(data: try! JSONEncoder().encode(s), encoding: .utf8)!
    }
}
