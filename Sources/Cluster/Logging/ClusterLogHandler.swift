import Foundation
import Logging

/// One line per event on standard error (what users and the process tests read):
/// `2026-12-08T01:02:03.456Z coordinator warning: <message> [trial=s/3 worker=w1]`:
/// the time in UTC (ISO 8601, milliseconds), the component (the logger's label), the level, the
/// message, then the metadata sorted by key. Lines from different threads never interleave.
public struct ClusterLogHandler: LogHandler {
    public let label: String
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// Set on this logger only; otherwise the process's level (`ClusterLog.level`) applies.
    private var ownLevel: Logger.Level?
    private let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void = ClusterLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    public var logLevel: Logger.Level {
        get { ownLevel ?? ClusterLog.level }
        set { ownLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let own = event.metadata { all.merge(own) { $1 } }
        write(Self.line(time: Date(), label: label, level: event.level, message: event.message.description, metadata: all))
    }

    /// The line for one event, with its newline.
    public static func line(time: Date, label: String, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        let tags = metadata.isEmpty ? "" : " [" + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "]"
        return "\(UTCTimestamp.iso8601(time)) \(label) \(level): \(message)\(tags)\n"
    }

    private static let lock = NSLock()

    /// Whole lines, one writer at a time.
    public static let standardError: @Sendable (String) -> Void = { line in
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(line.utf8))
    }
}
