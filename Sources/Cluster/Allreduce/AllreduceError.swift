import Foundation

/// Why a collective operation failed. Every case names the rank at fault, so a log line says
/// which replica to look at. After any of these the ring is broken: later operations fail too.
public enum AllreduceError: Error, CustomStringConvertible, Equatable {
    /// Nothing (not even a heartbeat) from this neighbour for longer than the liveness window.
    case peerSilent(rank: Int, seconds: Double)
    /// The neighbour reported a failure of its own (or passed on another rank's).
    case peerAborted(rank: Int, reason: String)
    /// The neighbour closed its ring while we still needed it.
    case peerLeft(rank: Int)
    /// A frame from this neighbour failed its checks (stale, out of order, another ring, garbage).
    case badFrame(rank: Int, reason: String)
    /// The ring did not form in time: these ranks never answered.
    case connectTimeout(missing: [Int], seconds: Double)
    /// The replicas' parameters differ after `iteration` steps (they must stay identical).
    case checksumMismatch(iteration: Int, checksums: [UInt64])
    case invalidConfiguration(String)
    /// The ring was closed or aborted by this process.
    case closed(reason: String)

    public var description: String {
        switch self {
        case let .peerSilent(rank, seconds):
            return "ring: rank \(rank) silent for \(String(format: "%.1f", seconds)) s (dead or stopped)"
        case let .peerAborted(rank, reason): return "ring: rank \(rank) aborted: \(reason)"
        case let .peerLeft(rank): return "ring: rank \(rank) left the ring"
        case let .badFrame(rank, reason): return "ring: bad frame from rank \(rank): \(reason)"
        case let .connectTimeout(missing, seconds):
            return "ring: rank(s) \(missing.map(String.init).joined(separator: ", ")) did not connect within \(String(format: "%.0f", seconds)) s"
        case let .checksumMismatch(iteration, checksums):
            let text = checksums.enumerated().map { "rank \($0.offset): \(String($0.element, radix: 16))" }.joined(separator: ", ")
            return "replicas diverged: parameter checksums differ after step \(iteration) (\(text))"
        case let .invalidConfiguration(reason): return "ring: \(reason)"
        case let .closed(reason): return "ring: closed: \(reason)"
        }
    }
}
