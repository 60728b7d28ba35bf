import Foundation
import GRDB

/// Checked reads of one stored row. GRDB's `row["column"] as Int` ends the process with a
/// fatal error when the stored value has another type, and a store is a file anyone may have
/// edited, truncated or half-restored: here an impossible value is a `StoreError` naming the
/// table, the row (its trial id) and the column.
struct StoredRow {
    let row: Row
    let table: String
    /// The store's path, for the error.
    let path: String
    /// How the row is named in errors: its trial id, or its row number when that is unreadable.
    let name: String

    init(_ row: Row, table: String, path: String, idColumn: String) {
        self.row = row
        self.table = table
        self.path = path
        if case let .string(id) = (row[idColumn] as DatabaseValue).storage {
            name = id
        } else {
            name = "with \(idColumn) \((row[idColumn] as DatabaseValue).description)"
        }
    }

    func fail(_ column: String, _ problem: String) -> StoreError {
        StoreError(path: path, problem: "table \(table), row \(name), column \(column): \(problem)")
    }

    private func value(_ column: String) -> DatabaseValue { row[column] as DatabaseValue }

    func int(_ column: String) throws -> Int {
        guard let value = try optionalInt(column) else { throw fail(column, "is NULL, expected a whole number") }
        return value
    }

    func optionalInt(_ column: String) throws -> Int? {
        switch value(column).storage {
        case .null: return nil
        case let .int64(v) where v >= Int64(Int.min) && v <= Int64(Int.max): return Int(v)
        case let .double(v) where v.rounded() == v && abs(v) < 0x1p62: return Int(v)
        case let other: throw fail(column, "\(Self.describe(other)) is not a whole number")
        }
    }

    func optionalDouble(_ column: String) throws -> Double? {
        switch value(column).storage {
        case .null: return nil
        case let .int64(v): return Double(v)
        case let .double(v): return v
        case let other: throw fail(column, "\(Self.describe(other)) is not a number")
        }
    }

    func string(_ column: String) throws -> String {
        guard let text = try optionalString(column) else { throw fail(column, "is NULL, expected text") }
        return text
    }

    func optionalString(_ column: String) throws -> String? {
        switch value(column).storage {
        case .null: return nil
        case let .string(text): return text
        case let other: throw fail(column, "\(Self.describe(other)) is not text")
        }
    }

    /// A JSON text column decoded as `T`; text that is not such JSON is an error, never `{}`.
    func json<T: Decodable>(_ column: String, as type: T.Type) throws -> T {
        let text = try string(column)
        do { return try ClusterJSON.decode(T.self, from: Data(text.utf8)) } catch {
            throw fail(column, "\(Self.describe(.string(text))) is not a JSON object")
        }
    }

    static func describe(_ storage: DatabaseValue.Storage) -> String {
        switch storage {
        case .null: return "NULL"
        case let .int64(v): return "\(v)"
        case let .double(v): return "\(v)"
        case let .string(text): return "'\(text.count > 60 ? String(text.prefix(60)) + "..." : text)'"
        case let .blob(data): return "a \(data.count)-byte blob"
        }
    }
}
