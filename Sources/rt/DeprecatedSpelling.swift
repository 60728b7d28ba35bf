import ArgumentParser

/// An option renamed so that one concept has one spelling in every command (docs/CLI.md, "One
/// spelling per concept"): the old spelling is still accepted, hidden from `--help`, and saying
/// so on standard error, so a researcher's existing scripts keep working and learn the new name.
struct DeprecatedSpelling {
    /// E.g. "rt train".
    var command: String
    /// E.g. "--out" and "--output".
    var old: String
    var new: String

    /// Both spellings with different values: a usage error (from `validate()`).
    func checkNotBoth<T: Equatable>(_ newValue: T?, _ oldValue: T?) throws {
        if let newValue, let oldValue, newValue != oldValue {
            throw ValidationError("\(old) is the deprecated spelling of \(new); give only \(new)")
        }
    }

    /// The value given under either spelling (the new one first); one line on standard error when
    /// only the old one was used.
    func value<T>(_ newValue: T?, _ oldValue: T?) -> T? {
        if newValue == nil, let oldValue {
            Notice.say("\(command) \(old) \(oldValue): deprecated spelling of \(new) \(oldValue)")
            return oldValue
        }
        return newValue
    }
}
