import NeuralNetworks
import TensorEngine

/// Runs an attack's body with the model as an attack needs it, and puts it back as it was.
///
/// Attacks differentiate with respect to the *input* only: every parameter is frozen so
/// `backward()` runs no weight-gradient GEMMs and leaves the parameters' `.grad` alone (a
/// training objective calls an attack between `zeroGrad()` and its own `backward()`). The
/// model is in eval mode (running batch-norm statistics, DESIGN.md §4). Mode and flags are
/// restored on every exit, including errors.
public enum AttackScope {
    public static func run<T>(_ models: [ImageClassifier], _ body: () throws -> T) rethrows -> T {
        let saved = models.map { model in (model, model.isTraining, model.namedParameters.map { ($0.1, $0.1.requiresGrad) }) }
        for model in models {
            model.eval()
            for (_, parameter) in model.namedParameters { parameter.requiresGrad = false }
        }
        defer {
            for (model, wasTraining, flags) in saved {
                model.train(wasTraining)
                for (parameter, flag) in flags { parameter.requiresGrad = flag }
            }
        }
        return try body()
    }

    public static func run<T>(_ model: ImageClassifier, _ body: () throws -> T) rethrows -> T {
        try run([model], body)
    }
}
