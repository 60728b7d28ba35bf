/// One attack of a trial's suite as reports key it: attack, norm, budget and steps.
/// Ordered by attack name, then eps, so tables and plots read from small to large budgets; an
/// AutoAttack setting sorts right after PGD at its norm and eps, so the two stand side by side
/// and the gap between fixed-step PGD and the parameter-free ensemble is in plain sight.
public struct AttackSetting: Codable, Hashable, Comparable, Sendable {
    public var attack: String
    public var norm: String
    public var eps: Double
    /// The eps as written in the sweep (`8/255`): what tables show.
    public var epsLabel: String
    public var steps: Int

    public init(attack: String, norm: String, eps: Double, epsLabel: String, steps: Int) {
        self.attack = attack
        self.norm = norm
        self.eps = eps
        self.epsLabel = epsLabel
        self.steps = steps
    }

    /// The attack family a plot draws as one line over eps.
    public var family: String { "\(attack) \(norm), \(stepsText)" }
    public var label: String { "\(attack) \(norm) \(epsLabel) (\(stepsText))" }
    private var stepsText: String { steps == 1 ? "1 step" : "\(steps) steps" }

    /// The setting a single number should speak for: the middle budget (lower median) of PGD,
    /// under L∞ if measured, else of the first attack family. nil for no settings.
    public static func representative(of settings: [AttackSetting]) -> AttackSetting? {
        let sorted = settings.sorted()
        let pgd = sorted.filter { $0.attack.lowercased() == "pgd" }
        let family = pgd.first { $0.norm.lowercased() == "linf" }?.family ?? pgd.first?.family ?? sorted.first?.family
        let members = sorted.filter { $0.family == family }
        return members.isEmpty ? nil : members[(members.count - 1) / 2]
    }

    /// AutoAttack's versions, by the name trials store (`autoattack`, `autoattack-rand`).
    public static let autoAttackNames = ["autoattack", "autoattack-rand"]
    public static let pgdName = "pgd"

    public var isAutoAttack: Bool { Self.autoAttackNames.contains(attack) }

    /// Where the setting sorts: AutoAttack under PGD's name, after it (rank 1, 2 by version).
    private var sortKey: (String, Double, String, Int, Int, String) {
        let rank = Self.autoAttackNames.firstIndex(of: attack).map { $0 + 1 } ?? 0
        return (rank > 0 ? Self.pgdName : attack, eps, norm, rank, steps, epsLabel)
    }

    public static func < (lhs: AttackSetting, rhs: AttackSetting) -> Bool {
        lhs.sortKey < rhs.sortKey
    }

    enum CodingKeys: String, CodingKey {
        case attack, norm, eps, steps
        case epsLabel = "eps_label"
    }
}
