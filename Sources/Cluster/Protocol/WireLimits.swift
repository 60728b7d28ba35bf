import Foundation

/// Bounds on what a peer may claim or say, checked before anything is logged or stored, so a
/// 4 MiB worker name or a 10,000-thread claim is refused with a reason instead of filling the
/// log, the store or the lease queue.
public enum WireLimits {
    public static let maxWorkerIDLength = 128
    public static let maxNameLength = 128
    public static let maxHostLength = 255
    public static let maxVersionLength = 64
    /// Failure reasons are kept (store, log) up to this many characters.
    public static let maxReasonLength = 4096
    /// A progress note (`epoch 3/8, loss 0.412; ...`) is kept for `rt status` up to this many characters.
    public static let maxNoteLength = 256

    /// Why a registration is refused, or nil.
    public static func problem(with registration: RegisterMessage, maxThreads: Int) -> String? {
        let fields: [(String, String, Int)] = [("worker id", registration.workerID, maxWorkerIDLength), ("name", registration.name, maxNameLength),
                                               ("host", registration.host, maxHostLength), ("version", registration.version, maxVersionLength)]
        for (field, value, limit) in fields {
            if value.isEmpty { return "empty \(field)" }
            if value.utf8.count > limit { return "\(field) of \(value.utf8.count) bytes (at most \(limit))" }
            if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "\(field) contains control characters" }
        }
        guard registration.threads >= 1 && registration.threads <= maxThreads else {
            return "\(registration.threads) trials at once (this coordinator accepts 1 to \(maxThreads) per worker: --max-worker-concurrency)"
        }
        return nil
    }

    /// `text` cut to `maxReasonLength` characters, saying so.
    public static func clipped(_ text: String) -> String {
        text.count <= maxReasonLength ? text : String(text.prefix(maxReasonLength)) + " ... (\(text.count - maxReasonLength) more characters)"
    }
}
