import Cluster
import Foundation
import Robustness
import Study

/// One attack of a trial's suite, with the eps written as in the sweep (`8/255`) for labels.
public struct LabeledAttack: Sendable, Equatable {
    public var spec: AttackSpec
    public var epsLabel: String

    /// `pgd-linf-8/255`: the name of its per-example mask and its column in reports.
    public var key: String { "\(spec.kind.rawValue)-\(spec.norm.rawValue)-\(epsLabel)" }
}

/// Reads `attacks:` — a list of `{attack: pgd, norm: linf, eps: [1/255, 8/255], steps: 10,
/// restarts: 1, random_start: true, step_size: 1/255}` — into one `LabeledAttack` per eps.
/// `square` and `autoattack` also take `queries` (Square's budget; see `AttackSpec.queries`);
/// `autoattack-rand` and APGD (`apgd-ce`, `apgd-t`, `apgd-dlr`) `eot_iterations` (`AttackSpec.eotIterations`).
/// `di-mifgsm` takes `diversity_prob` and `resize_rate` (input diversity; see `InputDiversity`).
enum StudyAttackSuite {
    static func parse(_ entries: [JSONValue], seed: UInt64, path: String = "attacks") throws -> [LabeledAttack] {
        var attacks: [LabeledAttack] = []
        // The corruption entry is not an attack (StudyCorruptionSuite reads it).
        for (index, entry) in entries.enumerated() where !StudyCorruptionSuite.isCorruption(entry) {
            let name = "\(path)[\(index)]"
            guard case let .object(fields) = entry else { throw JobError("parameter \(name): must be a mapping such as {attack: pgd, eps: 8/255}") }
            var reader = StudyParameterReader(fields, path: name)
            guard let kindName = try reader.string("attack") else { throw reader.fail("attack", "missing: one of \(AttackKind.allCases.map(\.rawValue).joined(separator: ", "))") }
            guard let kind = AttackKind(rawValue: kindName) else {
                throw reader.fail("attack", "unknown attack '\(kindName)'; known: \(AttackKind.allCases.map(\.rawValue).joined(separator: ", ")), \(StudyCorruptionSuite.attackName)")
            }
            let normName = try reader.string("norm") ?? "linf"
            guard let norm = AttackNorm(rawValue: normName) else { throw reader.fail("norm", "must be linf or l2, got '\(normName)'") }
            guard let epsValues = try reader.array("eps"), !epsValues.isEmpty else { throw reader.fail("eps", "missing: at least one budget such as 8/255") }
            let steps = try reader.int("steps", atLeast: 1) ?? 10
            let restarts = try reader.int("restarts", atLeast: 1) ?? 1
            let randomStart = try reader.bool("random_start") ?? true
            let stepSize = try reader.float("step_size")
            let queries = try reader.int("queries", atLeast: 1)
            let eotIterations = try reader.int("eot_iterations", atLeast: 1)
            let diversityProb = try reader.float("diversity_prob"), resizeRate = try reader.float("resize_rate")
            try reader.rejectUnknownKeys()
            let diversity = diversityProb == nil && resizeRate == nil ? nil
                : InputDiversity(probability: diversityProb ?? InputDiversity.defaultProbability, resizeRate: resizeRate ?? InputDiversity.defaultResizeRate)
            for value in epsValues {
                let label: String
                switch value {
                case let .string(s): label = s.trimmingCharacters(in: .whitespaces)
                case let .int(i): label = String(i)
                case let .double(d): label = String(d)
                default: throw JobError("parameter \(name).eps: \(value) is not a number or a fraction such as 8/255")
                }
                let eps = try StudyParameterReader.number(value, name: "\(name).eps")
                let spec = AttackSpec(kind: kind, norm: norm, eps: eps, steps: steps, stepSize: stepSize,
                                      restarts: restarts, randomStart: randomStart, seed: seed, queries: queries, eotIterations: eotIterations, diversity: diversity)
                do { try spec.validate() } catch { throw JobError("parameter \(name): \(error)") }
                let attack = LabeledAttack(spec: spec, epsLabel: label)
                if attacks.contains(where: { $0.key == attack.key }) { throw JobError("parameter \(name): \(attack.key) is listed twice") }
                attacks.append(attack)
            }
        }
        return attacks
    }
}
