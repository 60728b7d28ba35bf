import Robustness
import Study

/// The study's roles, one job type each (docs/STUDY.md). A role says which task it trains on,
/// whether it starts from a parent's checkpoint, and which loss it minimises.
public enum StudyRole: String, CaseIterable, Sendable {
    case pretrain
    case robustPretrain = "robust-pretrain"
    case standard
    case finetune
    case dm
    case trades
    case advFinetune = "adv-finetune"

    /// Pre-training roles learn the source task; every other role the target task.
    public var trainsOnSource: Bool { self == .pretrain || self == .robustPretrain }

    /// Roles that start from a pre-trained checkpoint (the stage's `from:`).
    public var needsParent: Bool {
        switch self {
        case .finetune, .dm, .trades, .advFinetune: return true
        case .pretrain, .robustPretrain, .standard: return false
        }
    }

    public var objective: ObjectiveSettings.Kind {
        switch self {
        case .pretrain, .standard, .finetune: return .crossEntropy
        case .robustPretrain, .advFinetune: return .pgdAT
        case .dm: return .dm
        case .trades: return .trades
        }
    }
}
