/// A command that could not do its work for a reason found while running it: a file that is
/// missing or unreadable, a store without the sweep it needs, a child process that failed.
/// `CommandExit` prints it as one line, `rt <command>: <description>`, and exits with status 1,
/// without usage text: the command line was fine. A bad command line is a `ValidationError`
/// thrown from `validate()` (status 2, with the usage).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
