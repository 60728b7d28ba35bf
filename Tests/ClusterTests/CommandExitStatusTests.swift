import Foundation
import XCTest

/// `rt`'s exit statuses (docs/CLI.md), from the built binary: a failure found while running
/// exits 1 with one line on standard error and no usage; a bad command line exits 2 with the
/// usage; help exits 0. Every case is a command that fails (or answers) before it loads anything.
final class CommandExitStatusTests: XCTestCase {
    private func rt(_ arguments: [String], environment: [String: String] = [:]) throws -> ShellCommand.Outcome {
        let command = ([try ProcessHarness.rtBinary().path] + arguments).map(ShellCommand.quoted).joined(separator: " ")
        return ShellCommand(command: command, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                            timeout: 30, separateErrors: true).run()
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

    /// An old spelling (docs/CLI.md, "One spelling per concept") still works and says what it is
    /// now, on a line of its own before anything else; given with the new one and another value it is usage.
    func testADeprecatedSpellingStillWorksAndSaysSo() throws {
        let missing = "/nonexistent-\(UUID().uuidString.prefix(8)).safetensors"
        let old = try rt(["eval", "--checkpoint", missing, "--dataset", "synthetic", "--limit", "5"])
        XCTAssertEqual(old.status, 1, old.text)
        XCTAssertEqual(lines(old.errors).first, "rt: rt eval --limit 5: deprecated spelling of --examples 5", old.errors)
        XCTAssertTrue(lines(old.errors).last?.hasPrefix("rt eval: ") ?? false, old.errors)
        let both = try rt(["eval", "--checkpoint", missing, "--dataset", "synthetic", "--limit", "5", "--examples", "6"])
        XCTAssertEqual(both.status, 2, both.text)
        XCTAssertTrue(both.errors.contains("--limit is the deprecated spelling of --examples; give only --examples"), both.errors)
        let out = try rt(["train", "--model", "no-such-model", "--dataset", "synthetic", "--out", "/nonexistent/m.safetensors"])
        XCTAssertEqual(out.status, 1, out.text)
        XCTAssertEqual(lines(out.errors).first, "rt: rt train --out /nonexistent/m.safetensors: deprecated spelling of --output /nonexistent/m.safetensors", out.errors)
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("rt-keys-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: keys) }
        let generated = try rt(["keys", "generate", "--out", keys.path])
        XCTAssertEqual(generated.status, 0, generated.text)
        XCTAssertEqual(generated.errors, "rt: rt keys generate --out \(keys.path): deprecated spelling of --output \(keys.path)\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: keys.appendingPathComponent("secret.key").path), "the old spelling still does the work")
        let threads = try rt(["run", "missing.yaml", "--threads", "2", "--concurrency", "3"])
        XCTAssertEqual(threads.status, 2, threads.text)
        XCTAssertTrue(threads.errors.contains("--threads is the deprecated spelling of --concurrency"), threads.errors)
    }

    /// A log level that is none of swift-log's is bad usage, from the command line or RT_LOG_LEVEL.
    func testAnUnknownLogLevelExitsTwoNamingWhereItCameFrom() throws {
        let option = try rt(["worker", "--connect", "ipc:///nonexistent", "--log-level", "loud"])
        XCTAssertEqual(option.status, 2, option.text)
        XCTAssertTrue(option.errors.contains("--log-level: unknown log level 'loud'; known: trace, debug, info"), option.errors)
        let environment = try rt(["runs", "list"], environment: ["RT_LOG_LEVEL": "loud"])
        XCTAssertEqual(environment.status, 2, environment.text)
        XCTAssertEqual(environment.errors, "rt: RT_LOG_LEVEL: unknown log level 'loud'; known: trace, debug, info, notice, warning, error, critical\n")
    }
}
