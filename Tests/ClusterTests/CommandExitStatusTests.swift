import Foundation
import XCTest

/// `rt`'s exit statuses (docs/CLI.md), from the built binary: a failure found while running
/// exits 1 with one line on standard error and no usage; a bad command line exits 2 with the
/// usage; help exits 0. Every case is a command that fails (or answers) before it loads anything.
final class CommandExitStatusTests: XCTestCase {
    private func rt(_ arguments: [String]) throws -> ShellCommand.Outcome {
        let command = ([try ProcessHarness.rtBinary().path] + arguments).map(ShellCommand.quoted).joined(separator: " ")
        return ShellCommand(command: command, timeout: 30, separateErrors: true).run()
    }

    private func lines(_ text: String) -> [Substring] { text.split(separator: "\n") }

    func testARuntimeFailureExitsOneWithOneLineAndNoUsage() throws {
        let missing = "/nonexistent-\(UUID().uuidString.prefix(8)).safetensors"
        let outcome = try rt(["eval", "--checkpoint", missing, "--dataset", "synthetic"])
        XCTAssertEqual(outcome.status, 1, outcome.text)
        XCTAssertEqual(lines(outcome.errors).count, 1, "one line on standard error: \(outcome.errors)")
        XCTAssertTrue(outcome.errors.hasPrefix("rt eval: "), outcome.errors)
        XCTAssertTrue(outcome.errors.contains(missing), "names the file: \(outcome.errors)")
        XCTAssertFalse(outcome.errors.lowercased().contains("usage"), outcome.errors)
        XCTAssertEqual(outcome.output, "", "nothing on standard output")
    }

    func testAnUnknownFlagExitsTwoWithTheUsage() throws {
        let outcome = try rt(["eval", "--checkpoint", "x.safetensors", "--dataset", "synthetic", "--no-such-flag"])
        XCTAssertEqual(outcome.status, 2, outcome.text)
        XCTAssertTrue(outcome.errors.contains("Unknown option '--no-such-flag'"), outcome.errors)
        XCTAssertTrue(outcome.errors.lowercased().contains("usage: rt eval"), outcome.errors)
    }

    /// A bad combination of flags, found by a command's validate(), is usage too.
    func testAFlagCombinationRefusedByValidateExitsTwoWithTheUsage() throws {
        let outcome = try rt(["attack", "--checkpoint", "x.safetensors", "--dataset", "synthetic", "--transfer-space", "logits"])
        XCTAssertEqual(outcome.status, 2, outcome.text)
        XCTAssertTrue(outcome.errors.contains("--transfer-space needs --source-checkpoint"), outcome.errors)
        XCTAssertTrue(outcome.errors.lowercased().contains("usage: rt attack"), outcome.errors)
    }

    func testHelpAndTheCompletionScriptExitZeroOnStandardOutput() throws {
        for arguments in [["--help"], ["eval", "--help"]] {
            let help = try rt(arguments)
            XCTAssertEqual(help.status, 0, help.text)
            XCTAssertTrue(help.output.lowercased().contains("usage: rt"), help.output)
            XCTAssertEqual(help.errors, "", help.errors)
        }
        let completion = try rt(["--generate-completion-script", "bash"])
        XCTAssertEqual(completion.status, 0, completion.text)
        XCTAssertTrue(completion.output.contains("complete"), completion.output)
    }
}
