/// Typed errors of the engine. A shape problem names every shape involved, so
/// a release build reports the mistake instead of reading out of bounds.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(op: String, shapes: [[Int]], reason: String)
    case invalidArgument(op: String, reason: String)
    case nonFinite(what: String, step: Int?)
    case checkpoint(path: String, tensor: String?, reason: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, shapes, reason):
            let listed = shapes.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: " and ")
            return "\(op): incompatible shapes \(listed): \(reason)"
        case let .invalidArgument(op, reason):
            return "\(op): \(reason)"
        case let .nonFinite(what, step):
            return step.map { "\(what) is not finite (NaN or Inf) at step \($0)" } ?? "\(what) is not finite (NaN or Inf)"
        case let .checkpoint(path, tensor, reason):
            return tensor.map { "checkpoint \(path): tensor '\($0)': \(reason)" } ?? "checkpoint \(path): \(reason)"
        }
    }
}

@inline(__always)
func require(_ condition: Bool, _ error: @autoclosure () -> TensorError) throws {
    if !condition { throw error() }
}
