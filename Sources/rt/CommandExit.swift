import ArgumentParser
import Foundation

/// The one place where `rt` turns how a command ended into an exit status and what it prints
/// (docs/CLI.md has the table):
/// - 0: done; help, `--version` and `--generate-completion-script` print on standard output;
/// - 1: a failure found while running (any error but the two below): one line on standard
///   error, `rt <command>: <message>`, no usage text;
/// - 2: a bad command line (ArgumentParser's parse errors and `ValidationError`s): the message
///   and the usage. ArgumentParser's own `main()` exits 64 for these and prints usage after
///   runtime failures too, which is why `RT` does not use it;
/// - an `ExitCode` a command throws (3 some trials failed, 75 another coordinator owns the run,
///   130/143 interrupted, ...): that
///   status, printing nothing more (the command has said why).
enum CommandExit {
    static let usage: Int32 = 2
    /// Another coordinator owns the run (`rt coordinator`, `rt run`, `rt study`, `rt evaluate`):
    /// nothing is wrong with the command, it can be given again once that coordinator ends.
    /// 75 is sysexits' EX_TEMPFAIL ("try again later"); cluster/slurm/rt.sbatch tells it apart.
    static let runHeld: Int32 = 75

    static func main(_ root: ParsableCommand.Type, arguments: [String]? = nil) -> Never {
        var command: ParsableCommand
        do {
            command = try root.parseAsRoot(arguments)
        } catch {
            finish(after: error, running: nil, root: root)
        }
        do {
            try command.run()
        } catch {
            finish(after: error, running: type(of: command), root: root)
        }
        exit(0)
    }

    /// `command` is nil when parsing (or a `validate()`) failed.
    private static func finish(after error: Error, running command: ParsableCommand.Type?, root: ParsableCommand.Type) -> Never {
        if let code = error as? ExitCode { exit(code.rawValue) } // the command has said why
        let status = root.exitCode(for: error)
        // Help, version, completion script. `--help` parses as a command whose run() asks for help.
        if status == .success { root.exit(withError: error) }
        let name = command.map { commandName($0, root: root) } ?? root._commandName
        if status == .validationFailure {
            if let error = error as? ValidationError, command != nil {
                // A check of the command line made in run() rather than validate(): still usage.
                printError("\(name): \(oneLine(error.message))\n  See '\(name) --help' for more information.")
            } else {
                printError(root.fullMessage(for: error)) // the message and the usage of the command it is about
            }
            exit(usage)
        }
        // Any other error (`exitCode(for:)` is then 1), or an `ExitCode` a validate() threw (no message).
        let message = oneLine(root.message(for: error))
        if !message.isEmpty { printError("\(name): \(message)") }
        exit(status.rawValue)
    }

    /// One failure, one line: a multi-line description (some library errors have one) is joined.
    static func oneLine(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// "rt analyze cka": the names from the root down to `command` in the tree of subcommands.
    static func commandName(_ command: ParsableCommand.Type, root: ParsableCommand.Type) -> String {
        func path(from node: ParsableCommand.Type) -> [String]? {
            if ObjectIdentifier(node) == ObjectIdentifier(command) { return [node._commandName] }
            for subcommand in node.configuration.subcommands {
                if let rest = path(from: subcommand) { return [node._commandName] + rest }
            }
            return nil
        }
        return (path(from: root) ?? [root._commandName]).joined(separator: " ")
    }

    private static func printError(_ text: String) {
        fflush(stdout) // what the command printed comes first
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
