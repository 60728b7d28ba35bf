import Foundation

/// A log line's time for people: `2026-12-08T01:02:03.456Z` (UTC, ISO 8601, milliseconds).
/// Formatted with gmtime_r rather than a shared DateFormatter: every thread logs, and this needs no lock.
public enum UTCTimestamp {
    public static func iso8601(_ date: Date) -> String {
        let since1970 = date.timeIntervalSince1970
        var seconds = time_t(since1970.rounded(.down))
        var milliseconds = Int(((since1970 - Double(seconds)) * 1000).rounded(.down))
        if milliseconds >= 1000 { seconds += 1; milliseconds -= 1000 }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), milliseconds)
    }
}
