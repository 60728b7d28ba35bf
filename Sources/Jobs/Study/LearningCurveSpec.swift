import Cluster
import Robustness
import Study

/// What a study trial measures between epochs (`eval_every: N`): every N epochs and after the
/// last, clean accuracy on a held-out validation split of the training data (`eval_examples`
/// per class, never trained on) and robust accuracy under one attack (`eval_attack`, default
/// PGD-10 L∞ 8/255) on a fixed subset of it (`eval_attack_examples`, 0 for none). The test
/// split stays untouched until the trial's final measurement.
public struct LearningCurveSpec: Sendable, Equatable {
    public var every: Int
    public var examplesPerClass: Int
    public var attack: LabeledAttack?
    public var attackExamples: Int
    /// Chooses the attacked subset of the validation split and the attack's random start.
    public var seed: UInt64

    static let defaultAttack: JSONValue = .object(["attack": .string("pgd"), "norm": .string("linf"), "eps": .string("8/255"), "steps": .int(10)])

    static func parse(_ reader: inout StudyParameterReader, seed: UInt64) throws -> LearningCurveSpec? {
        let every = try reader.int("eval_every", atLeast: 1)
        let examples = try reader.int("eval_examples", atLeast: 1)
        let attackValue = reader.raw("eval_attack")
        let attackExamples = try reader.int("eval_attack_examples", atLeast: 0)
        guard let every else {
            if examples != nil || attackValue != nil || attackExamples != nil {
                throw reader.fail("eval_every", "missing: eval_examples, eval_attack and eval_attack_examples shape the learning curve that eval_every: N asks for")
            }
            return nil
        }
        let attacks = try StudyAttackSuite.parse([attackValue ?? defaultAttack], seed: seed, path: "eval_attack")
        guard attacks.count == 1 else {
            throw reader.fail("eval_attack", "give one attack with one eps (the curve draws one line), got \(attacks.count) settings")
        }
        let count = attackExamples ?? 100
        return LearningCurveSpec(every: every, examplesPerClass: examples ?? 100, attack: count > 0 ? attacks[0] : nil,
                                 attackExamples: count, seed: seed)
    }
}
