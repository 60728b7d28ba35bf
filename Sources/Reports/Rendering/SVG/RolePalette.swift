/// One colour per role label across all figures of a report, so `finetune` is the same colour
/// in every plot. Tableau 10: distinguishable and readable on white.
struct RolePalette {
    static let colours = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                          "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
    private var index: [String: Int] = [:]

    init(labels: [String]) {
        for label in labels where index[label] == nil { index[label] = index.count }
    }

    func colour(_ label: String) -> String { Self.colours[(index[label] ?? 0) % Self.colours.count] }

    /// Beyond ten roles colours repeat; lines of the second and third round are dashed, dotted.
    func dash(_ label: String) -> String? {
        switch (index[label] ?? 0) / Self.colours.count % 3 {
        case 1: return "7 3"
        case 2: return "2 2"
        default: return nil
        }
    }
}
