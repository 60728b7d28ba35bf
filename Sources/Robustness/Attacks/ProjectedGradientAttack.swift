import NeuralNetworks
import TensorEngine

/// What an attack produced for one batch.
public struct AdversarialBatch {
    /// The adversarial images (N, C, H, W), in [0, 1] and in the eps-ball around the clean ones.
    public var images: Tensor
    /// The attacked model's output on them (logits, or features for a feature-space attack):
    /// evaluating on the attacked model needs no further forward pass.
    public var output: Tensor
    /// Per example, the kept run's score (see `AttackLoss.scores`): lower is more adversarial.
    public var scores: [Float]
    /// Examples whose input gradient at the first step was exactly zero.
    public var zeroGradientExamples: Int
}

/// Projected gradient ascent on an `AttackLoss` in pixel space: PGD (L∞, L2), FGSM, MI-FGSM,
/// CW-PGD, and the feature-space attack of DM are all this loop with different settings.
public enum ProjectedGradientAttack {
    /// `start`: the first iterate instead of a random one (projected like any iterate; one run,
    /// no restarts). The objective golden tests feed PyTorch and rt the same start this way.
    public static func run(_ model: ImageClassifier, images clean: Tensor, loss: AttackLoss,
                           settings: PGDSettings, start: Tensor? = nil) throws -> AdversarialBatch {
        try settings.validate()
        guard Tape.isRecording else {
            throw RobustnessError.invalidSetting(name: "attack", reason: "needs input gradients; it was called inside withoutGradients { }")
        }
        try validate(loss, images: clean, classes: model.modelDescription.numClasses)
        try settings.diversity?.validate(imageShape: Array(clean.shape.dropFirst()))
        if let start {
            guard start.shape == clean.shape else { throw RobustnessError.incompatible("start \(start.shape) for images \(clean.shape)") }
            guard settings.restarts == 1 else { throw RobustnessError.invalidSetting(name: "restarts", reason: "a given start allows one run, got \(settings.restarts)") }
        }
        return try AttackScope.run(model) {
            var best: AdversarialBatch?
            for restart in 0..<settings.restarts {
                let first: Tensor
                if let start {
                    first = start.copy()
                    PerturbationKernels.project(first, clean: clean, norm: settings.norm, eps: settings.eps)
                } else {
                    var generator = RandomGenerator(seed: settings.seed, stream: "attack/restart \(restart)")
                    first = PerturbationKernels.start(clean, settings.start, norm: settings.norm, eps: settings.eps, generator: &generator)
                }
                let run = try attackOnce(model, clean, loss, settings, from: first, run: restart)
                guard var kept = best else { best = run; continue }
                // Keep each example's worst case: restarts can only lower its score.
                for r in 0..<run.scores.count where run.scores[r] < kept.scores[r] {
                    kept.scores[r] = run.scores[r]
                    PerturbationKernels.copyRow(r, from: run.images, to: kept.images)
                    PerturbationKernels.copyRow(r, from: run.output, to: kept.output)
                }
                best = kept
            }
            return best!
        }
    }

    /// Labels and references must fit the batch: the loss kernels index with them unchecked.
    static func validate(_ loss: AttackLoss, images: Tensor, classes: Int) throws {
        let n = images.shape.first ?? 0
        switch loss {
        case let .targetedDLR(labels, targets):
            guard labels.count == n, targets.count == n else { throw RobustnessError.incompatible("\(labels.count) labels and \(targets.count) targets for a batch of \(n) images") }
            if let bad = (labels + targets).first(where: { $0 < 0 || $0 >= classes }) {
                throw RobustnessError.incompatible("class \(bad) outside the model's classes 0..<\(classes)")
            }
        case let .crossEntropy(labels), let .margin(labels), let .dlr(labels):
            guard labels.count == n else { throw RobustnessError.incompatible("\(labels.count) labels for a batch of \(n) images") }
            if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
                throw RobustnessError.incompatible("label \(bad) outside the model's classes 0..<\(classes)")
            }
        case let .klFromClean(p):
            guard p.shape == [n, classes] else { throw RobustnessError.incompatible("clean probabilities \(p.shape) do not match (\(n), \(classes))") }
        case let .featureDistance(reference):
            guard reference.shape.first == n else { throw RobustnessError.incompatible("reference features \(reference.shape) for a batch of \(n) images") }
        }
    }

    /// The penultimate features of `images` in eval mode (the reference of a feature-space attack).
    public static func referenceFeatures(_ model: ImageClassifier, images: Tensor) throws -> Tensor {
        try AttackScope.run(model) {
            try withoutGradients {
                guard let features = try model(images, capture: [.features]).features else {
                    throw RobustnessError.incompatible("\(model.modelDescription.name) does not expose penultimate features")
                }
                return features
            }
        }
    }

    /// One run from one start (`adv`, updated in place). Must be called inside `AttackScope`.
    static func attackOnce(_ model: ImageClassifier, _ clean: Tensor, _ loss: AttackLoss, _ settings: PGDSettings,
                           from adv: Tensor, run: Int) throws -> AdversarialBatch {
        let alpha = settings.resolvedStepSize
        let velocity = settings.momentum.map { _ in Tensor(zeros: clean.shape) }
        var zeroGradients = 0
        // Input diversity's own stream: without it (or with p = 0) the run is exactly the plain attack.
        var diversityGenerator = RandomGenerator(seed: settings.seed, stream: "attack/diversity \(run)")
        for step in 0..<settings.steps {
            let placement = settings.diversity?.draw(side: clean.shape[2], generator: &diversityGenerator)
            let gradient = try inputGradient(model, at: adv, loss: loss, placement: placement)
            if step == 0 { zeroGradients = PerturbationKernels.zeroGradientExamples(gradient) }
            var direction = gradient
            if let velocity, let decay = settings.momentum {
                PerturbationKernels.accumulateMomentum(velocity, gradient: gradient, decay: decay)
                direction = velocity
            }
            // The leaf's graph is gone after backward, so the iterate is updated in place.
            switch settings.norm {
            case .linf: PerturbationKernels.linfStep(adv, direction: direction, clean: clean, stepSize: alpha, eps: settings.eps)
            case .l2: PerturbationKernels.l2Step(adv, direction: direction, clean: clean, stepSize: alpha, eps: settings.eps)
            }
        }
        let output = try withoutGradients { try attackedOutput(model, adv, loss) }
        return AdversarialBatch(images: adv, output: output, scores: loss.scores(output: output), zeroGradientExamples: zeroGradients)
    }

    /// ∇ₓ Σ loss at `x`, parameters frozen: one forward, one backward. With a placement, the model
    /// sees x resized and padded (input diversity) and the gradient flows back through both.
    static func inputGradient(_ model: ImageClassifier, at x: Tensor, loss: AttackLoss,
                              placement: InputDiversity.Placement? = nil) throws -> Tensor {
        let leaf = x.detached()
        leaf.requiresGrad = true
        let output = try attackedOutput(model, try InputDiversity.apply(placement, to: leaf), loss)
        try output.backward(seed: loss.seed(output: output))
        guard let gradient = leaf.grad else {
            throw RobustnessError.incompatible("\(model.modelDescription.name): the output does not depend on the input (no input gradient)")
        }
        return gradient
    }

    static func attackedOutput(_ model: ImageClassifier, _ x: Tensor, _ loss: AttackLoss) throws -> Tensor {
        if loss.usesFeatures {
            guard let features = try model(x, capture: [.features]).features else {
                throw RobustnessError.incompatible("\(model.modelDescription.name) does not expose penultimate features")
            }
            if case let .featureDistance(reference) = loss, reference.shape != features.shape {
                throw RobustnessError.incompatible("reference features \(reference.shape) do not match the model's features \(features.shape)")
            }
            return features
        }
        return try model(x)
    }
}
