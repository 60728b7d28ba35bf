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
        target classes), apgd-dlr (APGD on the untargeted DLR loss), square (score-based, no gradients) and \
        autoattack (apgd-ce, apgd-t and square in sequence, each on the examples the ones before left correct; \
        FAB-T is not implemented). For them --steps is APGD's iterations and square's query budget (unless \
        --queries is given); autoattack's Square takes --queries (default 50 x --steps). AutoAttack's standard \
        version is --attack autoattack --steps 100 --queries 5000. For models with randomness, autoattack-rand \
        is AutoAttack's rand version: apgd-ce then apgd-dlr, each iteration averaging the input gradient over \
        --eot-iterations passes (default 20, expectation over transformation): --attack autoattack-rand --steps 100. \
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
    @OptionGroup var examples: ExampleCountOptions
    @Option(help: "fgsm, pgd, mifgsm, di-mifgsm, cw, uap, apgd-ce, apgd-t, apgd-dlr, square, autoattack, autoattack-rand or corruption; a comma-separated list for several.") var attack = "pgd"
    @Option(help: "linf or l2.") var norm = AttackNorm.linf
    @Option(help: "Budgets in pixel units, fractions allowed: 8/255 or 1/255,2/255,4/255.") var eps = "8/255"
    @Option(help: "Iterations (PGD, MI-FGSM, DI-MI-FGSM, CW, APGD), passes over the data (UAP), or Square's query budget.") var steps = 10
    @Option(help: "Square's query budget per example (square: default --steps; autoattack: default 50 x --steps).") var queries: Int?
    @Option(name: .customLong("eot-iterations"), help: "Passes whose input gradients each APGD iteration averages (autoattack-rand: default 20; apgd-ce, apgd-t, apgd-dlr: default 1).") var eotIterations: Int?
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
                                     eotIterations: kind.averagesGradients ? eotIterations : nil,
                                     diversity: kind == .diMIFGSM ? diversity : nil) }
        }
        if let queries, !kinds.contains(.square) && !kinds.contains(.autoattack) {
            throw ValidationError("--queries \(queries): only square and autoattack take a query budget")
        }
        if let eotIterations, !kinds.contains(where: \.averagesGradients) {
            throw ValidationError("--eot-iterations \(eotIterations): only apgd-ce, apgd-t, apgd-dlr and autoattack-rand average gradients over passes")
        }
        if diversity != nil && !kinds.contains(.diMIFGSM) {
            throw ValidationError("--diversity-prob and --resize-rate: only di-mifgsm takes input diversity")
        }
        for spec in specs { try spec.validate() }
        if specs.isEmpty && corruptions == nil { throw ValidationError("--attack: name at least one attack or corruption") }
        if specs.isEmpty && sourceCheckpoint != nil { throw ValidationError("--source-checkpoint: corruptions are not crafted on a model; transfer is for attacks") }
        if transferSpace != nil && sourceCheckpoint == nil { throw ValidationError("--transfer-space needs --source-checkpoint") }
        return Plan(attacks: specs, corruptions: corruptions)
    }

    func run() throws {
        let plan = try self.plan()
        let (specs, corruptions) = (plan.attacks, plan.corruptions)
        let limit = examples.count("rt attack")
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
        let line = ProgressLine()
        let report = specs.isEmpty ? nil : try RobustnessEvaluator(batchSize: batchSize, progress: line.examples("attacks"))
            .evaluate(model, on: data, attacks: specs, craftingModel: source, craftingSpace: space)
        let corrupted = corruptionSpecs.isEmpty ? nil : try CorruptionEvaluator(batchSize: batchSize, progress: line.examples("corruptions"))
            .evaluate(model, on: data, corruptions: corruptionSpecs)
        line.clear()
        if json {
            try JSONLines.print(AttackReportFormat.JSON(report, corruptions: corrupted))
        } else {
            print(AttackReportFormat.table(report, corruptions: corrupted))
        }
    }
}

extension AttackNorm: ExpressibleByArgument {}
extension CraftingSpace: ExpressibleByArgument {}

/// How `rt attack` prints a report: one JSON line (`JSONLines`), or a table for people.
enum AttackReportFormat {
    /// `--json`: the clean accuracy, one result per (attack, eps) and per (corruption, severity),
    /// the corruptions' means and the warnings. A number that is not finite prints as null.
    struct JSON: Encodable {
        var cleanAccuracy: Double?
        var examples: Int
        var results: [Result]
        var corruptionAccuracy: CorruptionAccuracy?
        var warnings: [String]

        /// One attack at one eps, or one corruption at one severity (with the attacks' keys, so
        /// scripts reading `robust_accuracy` read both).
        struct Result: Encodable {
            var attack: String
            var corruption: String?
            var severity: Int?
            var norm: String
            var eps: Float
            var steps: Int
            var robustAccuracy: Double?
            var successRate: Double?
            var meanTrueConfidenceClean: Double?
            var meanTrueConfidenceAdv: Double?
            /// Time of this attack alone (crafting + judging its result; not data loading or the clean
            /// pass), so scripts/bench/robustness.sh can compare it with `rt bench engine`.
            var seconds: Double?
            var cpuSeconds: Double?
            /// Gradient passes averaged per APGD iteration, where the attack averages them (EOT).
            var eotIterations: Int?
            /// AutoAttack's components, in the order they ran, each with the robust accuracy after it.
            var components: [Component]?
        }

        struct Component: Encodable {
            var attack: String
            var steps: Int
            var robustAccuracy: Double?
            var seconds: Double?
        }

        struct CorruptionAccuracy: Encodable {
            var mean: Double?
            var kinds: [String: Double?]
        }

        init(_ report: RobustnessReport?, corruptions: CorruptionReport?) {
            let f = JSONLines.finite
            cleanAccuracy = f(report?.cleanAccuracy ?? corruptions?.cleanAccuracy ?? 0)
            examples = report?.examples ?? corruptions?.examples ?? 0
            results = (report?.results ?? []).map { r in
                Result(attack: r.attack, norm: r.norm, eps: r.eps, steps: r.steps, robustAccuracy: f(r.robustAccuracy),
                       successRate: f(r.successRate), meanTrueConfidenceClean: f(r.meanTrueConfidenceClean),
                       meanTrueConfidenceAdv: f(r.meanTrueConfidenceAdversarial), seconds: f(r.seconds), cpuSeconds: f(r.cpuSeconds),
                       eotIterations: r.eotIterations,
                       components: r.components?.map { Component(attack: $0.attack, steps: $0.steps, robustAccuracy: f($0.robustAccuracy), seconds: f($0.seconds)) })
            }
            if let corruptions {
                results += corruptions.results.map { r in
                    Result(attack: CorruptionOptions.attackName, corruption: r.kind.rawValue, severity: r.severity, norm: "none", eps: 0, steps: 0,
                           robustAccuracy: f(r.accuracy), successRate: f(r.successRate), meanTrueConfidenceClean: f(corruptions.meanTrueConfidenceClean),
                           meanTrueConfidenceAdv: f(r.meanTrueConfidence), seconds: f(r.seconds), cpuSeconds: f(r.cpuSeconds))
                }
                corruptionAccuracy = CorruptionAccuracy(mean: f(corruptions.meanAccuracy),
                                                        kinds: Dictionary(uniqueKeysWithValues: corruptions.kinds.map { ($0.rawValue, f(corruptions.meanAccuracy($0))) }))
            }
            warnings = report?.warnings ?? []
        }
    }

    static func table(_ report: RobustnessReport?, corruptions: CorruptionReport?) -> String {
        guard let report else { return CorruptionReportFormat.table(corruptions!, withClean: true) }
        var lines = [String(format: "clean accuracy %.2f%%  (%d examples)", 100 * report.cleanAccuracy, report.examples),
                     "attack          norm  eps        steps  robust acc  success  conf clean  conf adv  images/s  img/CPU-s"]
        for r in report.results {
            let name = r.attack.padding(toLength: 15, withPad: " ", startingAt: 0) + " " + r.norm.padding(toLength: 5, withPad: " ", startingAt: 0)
                + " " + fraction(r.eps).padding(toLength: 10, withPad: " ", startingAt: 0)
            lines.append(name + String(format: " %5d  %9.2f%%  %6.2f%%  %10.4f  %8.4f  %8.1f  %9.1f", r.steps,
                                       100 * r.robustAccuracy, 100 * r.successRate, r.meanTrueConfidenceClean,
                                       r.meanTrueConfidenceAdversarial, Double(report.examples) / max(r.seconds, 1e-9),
                                       Double(report.examples) / max(r.cpuSeconds, 1e-9)))
            for c in r.components ?? [] {
                lines.append("  after " + c.attack.padding(toLength: 8, withPad: " ", startingAt: 0)
                             + String(format: "%*d  %9.2f%%  (%.1f s)", 22, c.steps, 100 * c.robustAccuracy, c.seconds))
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
}
