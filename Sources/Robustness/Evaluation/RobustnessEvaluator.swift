import Datasets
import Foundation
import NeuralNetworks
import TensorEngine

/// Where a transfer attack is crafted on the source model.
public enum CraftingSpace: String, Codable, Sendable, CaseIterable {
    /// The source model's loss on the true labels (needs the same classes as the evaluated model).
    case logits
    /// The distance of the source model's penultimate features from their clean values: no labels,
    /// so a model pre-trained on other classes can attack its fine-tuned descendant.
    case features
}

/// Measures a model's robustness on a dataset under a list of (attack, eps), optionally with the
/// adversarial examples crafted on another model (transfer).
///
/// An example counts as robust when it is classified correctly on the clean input *and* on the
/// adversarial one (RobustBench's convention), so robust accuracy never exceeds clean accuracy
/// and eps 0 gives the clean accuracy exactly.
public struct RobustnessEvaluator {
    public var batchSize: Int
    /// Examples attacked so far (a universal perturbation's crafting comes first and is not counted).
    public var progress: ExampleProgress?

    public init(batchSize: Int = 128, progress: ExampleProgress? = nil) {
        self.batchSize = batchSize
        self.progress = progress
    }

    public func evaluate(_ model: ImageClassifier, on dataset: ImageDataset, attacks: [AttackSpec],
                         craftingModel: ImageClassifier? = nil, craftingSpace: CraftingSpace = .logits) throws -> RobustnessReport {
        try Self.validate(model, on: dataset, attacks: attacks, craftingModel: craftingModel, craftingSpace: craftingSpace)
        guard batchSize >= 1 else { throw RobustnessError.invalidSetting(name: "batch size", reason: "must be at least 1, got \(batchSize)") }
        let crafter = craftingModel ?? model
        let n = dataset.count
        var tallies = attacks.map { _ in Tally(examples: n) }

        // A universal perturbation is one δ for the whole dataset: crafted first, then applied per batch.
        var universal: [Int: Tensor] = [:]
        for (i, spec) in attacks.enumerated() where spec.kind == .uap {
            let (start, cpuStart) = (Date(), Self.cpuSeconds())
            universal[i] = try UniversalPerturbation.craft(crafter, on: dataset, settings: .init(
                eps: spec.eps, epochs: spec.steps, stepSize: spec.stepSize, batchSize: batchSize, seed: spec.seed))
            tallies[i].seconds += Date().timeIntervalSince(start)
            tallies[i].cpuSeconds += Self.cpuSeconds() - cpuStart
        }

        var cleanCorrect: [Bool] = []
        var cleanConfidence: [Float] = []
        var outputFindings = ModelOutputFindings()
        let loader = try DataLoader(dataset: dataset, batchSize: batchSize, shuffle: false, prefetchDepth: 1)
        for batch in loader.batches(epoch: 0) {
            progress?(batch.index * batchSize, n)
            let cleanLogits = try Self.logits(model, batch.images)
            if batch.index == 0 {
                // AutoAttack's checks on the model itself: one more forward pass of the first batch.
                outputFindings = ModelOutputFindings(first: cleanLogits, second: try Self.logits(model, batch.images))
            }
            let (correct, confidence) = Self.judge(cleanLogits, batch.labels)
            cleanCorrect += correct
            cleanConfidence += confidence
            for (i, spec) in attacks.enumerated() {
                let (start, cpuStart) = (Date(), Self.cpuSeconds())
                let adversarialLogits: Tensor
                if let delta = universal[i] {
                    adversarialLogits = try Self.logits(model, UniversalPerturbation.apply(delta, to: batch.images))
                } else if spec.kind.isParameterFree {
                    let crafted = try Self.parameterFree(spec, model, batch, cleanLogits: cleanLogits, correct: correct, tally: &tallies[i])
                    tallies[i].zeroGradients += crafted.zeroGradientExamples
                    adversarialLogits = crafted.output
                } else {
                    var settings = spec.settings(batchSeed: UInt64(batch.index))
                    let loss: AttackLoss
                    if craftingSpace == .features {
                        loss = .featureDistance(reference: try ProjectedGradientAttack.referenceFeatures(crafter, images: batch.images))
                        // At the clean input the feature distance is at its minimum: its gradient is exactly zero.
                        if settings.start == .none { settings.start = .gaussian(std: 0.001) }
                    } else {
                        loss = spec.loss(labels: batch.labels)
                    }
                    let crafted = try ProjectedGradientAttack.run(crafter, images: batch.images, loss: loss, settings: settings)
                    tallies[i].zeroGradients += crafted.zeroGradientExamples
                    // On the attacked model itself the attack already has the logits of its result.
                    adversarialLogits = crafter === model && craftingSpace == .logits
                        ? crafted.output : try Self.logits(model, crafted.images)
                }
                let (advCorrect, advConfidence) = Self.judge(adversarialLogits, batch.labels)
                for r in 0..<batch.count {
                    tallies[i].correct.append(correct[r] && advCorrect[r])
                    tallies[i].confidence += Double(advConfidence[r])
                }
                tallies[i].seconds += Date().timeIntervalSince(start)
                tallies[i].cpuSeconds += Self.cpuSeconds() - cpuStart
            }
        }

        let denominator = Double(max(n, 1))
        progress?(n, n)
        let cleanHits = cleanCorrect.filter { $0 }.count
        let cleanAccuracy = Double(cleanHits) / denominator
        let meanCleanConfidence = cleanConfidence.reduce(0.0) { $0 + Double($1) } / denominator
        var worst = cleanCorrect
        let results = zip(attacks, tallies).map { spec, tally -> AttackResult in
            for r in 0..<n where !tally.correct[r] { worst[r] = false }
            let robust = tally.correct.filter { $0 }.count
            let components = tally.components.isEmpty ? nil : zip(spec.kind.autoAttackVersion?.components ?? [], tally.components).map { name, component in
                AttackComponentResult(attack: name, steps: name == AttackKind.square.rawValue ? spec.squareQueries : spec.steps,
                                      robustAccuracy: Double(component.correct.filter { $0 }.count) / denominator,
                                      correct: component.correct, seconds: component.seconds)
            }
            return AttackResult(attack: spec.kind.rawValue, norm: spec.norm.rawValue, eps: spec.eps, steps: spec.effectiveSteps,
                                robustAccuracy: Double(robust) / denominator,
                                successRate: cleanHits == 0 ? 0 : Double(cleanHits - robust) / Double(cleanHits),
                                meanTrueConfidenceClean: meanCleanConfidence,
                                meanTrueConfidenceAdversarial: tally.confidence / denominator,
                                correct: tally.correct, zeroGradientFraction: Double(tally.zeroGradients) / denominator,
                                seconds: tally.seconds, cpuSeconds: tally.cpuSeconds, components: components,
                                eotIterations: spec.resolvedEOTIterations > 1 ? spec.resolvedEOTIterations : nil)
        }
        return RobustnessReport(cleanAccuracy: cleanAccuracy, examples: n, cleanCorrect: cleanCorrect, results: results,
                                worstCaseCorrect: worst, worstCaseAccuracy: Double(worst.filter { $0 }.count) / denominator,
                                warnings: RobustnessWarnings.check(cleanAccuracy: cleanAccuracy, results: results, model: outputFindings))
    }

    /// APGD, Square or AutoAttack on one batch (on the evaluated model itself; they need no other
    /// forward pass than the clean one already done). AutoAttack's components are tallied as it
    /// reports them: robust accuracy after each one in turn.
    static func parameterFree(_ spec: AttackSpec, _ model: ImageClassifier, _ batch: Batch, cleanLogits: Tensor, correct: [Bool],
                              tally: inout Tally) throws -> AdversarialBatch {
        let batchSeed = UInt64(batch.index)
        switch spec.kind {
        case .apgdCE, .apgdT, .apgdDLR:
            return try AutoPGD.run(model, images: batch.images, labels: batch.labels, settings: spec.autoPGDSettings(batchSeed: batchSeed),
                                   cleanLogits: cleanLogits)
        case .square:
            return try SquareAttack.run(model, images: batch.images, labels: batch.labels, settings: spec.squareSettings(batchSeed: batchSeed),
                                        cleanLogits: cleanLogits)
        default:
            let settings = spec.autoAttackSettings(batchSeed: batchSeed)
            let found = try AutoAttack.run(model, images: batch.images, labels: batch.labels, settings: settings, cleanLogits: cleanLogits)
            if tally.components.isEmpty { tally.components = settings.version.components.map { _ in ComponentTally() } }
            for c in tally.components.indices {
                tally.components[c].correct += correct.indices.map { r in correct[r] && (found.brokenBy[r].map { $0 > c } ?? true) }
                tally.components[c].seconds += found.componentSeconds[c]
            }
            return found.adversarial
        }
    }

    /// Everything that must hold before any work starts.
    public static func validate(_ model: ImageClassifier, on dataset: ImageDataset, attacks: [AttackSpec],
                                craftingModel: ImageClassifier?, craftingSpace: CraftingSpace) throws {
        for spec in attacks { try spec.validate() }
        let d = model.modelDescription
        guard d.inputShape == [dataset.channels, dataset.height, dataset.width] else {
            throw RobustnessError.incompatible("\(d.name) expects images \(d.inputShape), dataset \(dataset.name) has \([dataset.channels, dataset.height, dataset.width])")
        }
        for spec in attacks where spec.kind == .diMIFGSM {
            try (spec.diversity ?? InputDiversity()).validate(imageShape: d.inputShape)
        }
        guard d.numClasses == dataset.classCount else {
            throw RobustnessError.incompatible("the model has \(d.numClasses) classes, dataset \(dataset.name) (after class selection) has \(dataset.classCount); pass --classes to match")
        }
        if let source = craftingModel {
            guard source.modelDescription.inputShape == d.inputShape else {
                throw RobustnessError.incompatible("the source model expects images \(source.modelDescription.inputShape), the evaluated model \(d.inputShape)")
            }
            if craftingSpace == .logits && source.modelDescription.numClasses != d.numClasses {
                throw RobustnessError.incompatible("the source model has \(source.modelDescription.numClasses) classes, the evaluated model \(d.numClasses): craft on features instead (--transfer-space features)")
            }
            if let own = attacks.first(where: { $0.kind.isParameterFree }) {
                throw RobustnessError.incompatible("\(own.kind.rawValue) attacks the evaluated model itself; transfer from a source model is for fgsm, pgd, mifgsm, di-mifgsm, cw and uap")
            }
            if craftingSpace == .features && attacks.contains(where: { $0.kind == .uap }) {
                throw RobustnessError.incompatible("a universal perturbation is crafted on labels, not on features")
            }
        } else if craftingSpace == .features {
            throw RobustnessError.incompatible("crafting on features is a transfer attack: give a source model")
        }
    }

    /// Logits in eval mode without gradients (the model's mode is restored).
    static func logits(_ model: ImageClassifier, _ images: Tensor) throws -> Tensor {
        try AttackScope.run(model) { try withoutGradients { try model(images) } }
    }

    /// Per row: argmax equals the label (first maximum wins), and the softmax probability of the label.
    static func judge(_ logits: Tensor, _ labels: [Int]) -> (correct: [Bool], confidence: [Float]) {
        let k = logits.shape[1]
        var correct = [Bool](), confidence = [Float]()
        let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: k)
        defer { probabilities.deallocate() }
        for (r, label) in labels.enumerated() {
            let row = logits.pointer + r * k
            var best = 0
            for j in 1..<k where row[j] > row[best] { best = j }
            correct.append(best == label)
            AttackLoss.softmaxRow(row, probabilities, k)
            confidence.append(probabilities[label])
        }
        return (correct, confidence)
    }

    /// User + system CPU seconds of the process so far.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    struct Tally {
        var correct: [Bool] = []
        var confidence = 0.0
        var zeroGradients = 0
        var seconds = 0.0
        var cpuSeconds = 0.0
        /// AutoAttack only: per component, correct after it and every one before it.
        var components: [ComponentTally] = []
        init(examples: Int) { correct.reserveCapacity(examples) }
    }

    struct ComponentTally {
        var correct: [Bool] = []
        var seconds = 0.0
    }
}
