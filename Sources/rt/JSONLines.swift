import Foundation

/// What `--json` prints, in every command (docs/CLI.md): one compact JSON object per line on
/// standard output, keys in snake_case (a Codable's `secondsPerAllreduce` is printed as
/// `seconds_per_allreduce`), sorted, never NaN or Infinity: a measure that has no finite value is
/// a `Double?` that prints `null` (`JSONLines.finite`); a non-finite number that slips through
/// fails the command rather than print JSON no parser reads.
enum JSONLines {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()

    /// The line for `value`, without its newline.
    static func line<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Prints `value` as one line and flushes, so a reader of a stream sees each line as it comes.
    static func print<T: Encodable>(_ value: T) throws {
        Swift.print(try line(value))
        fflush(stdout)
    }

    /// `value` when it is finite, else nil (printed as `null`).
    static func finite(_ value: Double) -> Double? { value.isFinite ? value : nil }
}
