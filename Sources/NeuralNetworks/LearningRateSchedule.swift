import Foundation

/// A learning-rate multiplier per iteration (applied to every group's base rate).
public enum LearningRateSchedule: Equatable, Sendable {
    case constant
    /// × gamma every `every` iterations (torch StepLR, stepped per iteration).
    case step(every: Int, gamma: Float)
    /// Cosine from 1 down to `floor` over `total` iterations (torch CosineAnnealingLR with
    /// eta_min = floor · base), then stays at the floor.
    case cosine(total: Int, floor: Float)

    public func factor(atIteration t: Int) -> Float {
        switch self {
        case .constant:
            return 1
        case let .step(every, gamma):
            return Foundation.pow(gamma, Float(t / max(every, 1)))
        case let .cosine(total, floor):
            let progress = min(Float(t) / Float(max(total, 1)), 1)
            return floor + (1 - floor) * (1 + Foundation.cos(Float.pi * progress)) / 2
        }
    }
}
