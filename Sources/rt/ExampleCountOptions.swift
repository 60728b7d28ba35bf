import ArgumentParser

/// How many examples a command measures on (`rt eval`, `rt attack`, `rt analyze`): the first N
/// of the split. `rt evaluate --examples N` and a sweep's `attack_examples` take a seeded subset
/// of N instead, since a study compares models on one such subset. `--limit` is the deprecated
/// spelling (docs/CLI.md).
struct ExampleCountOptions: ParsableArguments {
    @Option(help: "Use the first N examples of the split only (default: all).")
    var examples: Int?

    @Option(help: ArgumentHelp("Deprecated spelling of --examples.", visibility: .hidden))
    var limit: Int?

    func validate() throws {
        try DeprecatedSpelling(command: "", old: "--limit", new: "--examples").checkNotBoth(examples, limit)
        if let count = examples ?? limit, count < 1 { throw ValidationError("--examples must be at least 1, got \(count)") }
    }

    /// The count, if any; says so on standard error when `command` was given the old spelling.
    func count(_ command: String) -> Int? {
        DeprecatedSpelling(command: command, old: "--limit", new: "--examples").value(examples, limit)
    }
}
