import Foundation
import XCTest

/// docs/CLI.md, "Output": `rt train` on a terminal draws its progress bar on standard error and
/// keeps standard output to the results, through real pseudo-terminals; the bar is left out on
/// a dumb terminal, loses its colour with NO_COLOR, and standard output in a file gets JSON lines.
final class TerminalProgressProcessTests: XCTestCase {
    private var directory: URL!
    private let clearLine = "\r\u{1B}[2K"
    private let colour = "\u{1B}[36m"

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-tty-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A tiny training run: 2 epochs of 8 steps.
    private func train(_ name: String) -> [String] {
        ["train", "--dataset", "synthetic:classes=2,channels=1,size=12,train=256,test=32,seed=3", "--model", "small-cnn",
         "--epochs", "2", "--batch-size", "32", "--threads", "1", "--seed", "1",
         "--output", directory.appendingPathComponent("\(name).safetensors").path]
    }

    private func environment(_ extra: [String: String]) -> [String: String] {
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "TERM": "xterm"]
        environment.merge(extra) { $1 }
        return environment
    }

    /// What a terminal shows of a program's output lines: the driver turns "\n" into "\r\n".
    private func lines(_ terminalText: String) -> String { terminalText.replacingOccurrences(of: "\r\n", with: "\n") }

    func testTheBarGoesToStandardErrorAndStandardOutputKeepsTheResults() throws {
        let out = try PseudoTerminal(), err = try PseudoTerminal()
        let status = try TerminalRun.run(train("bar"), stdout: .terminal(out), stderr: .terminal(err), environment: environment([:]), timeout: 120)
        let output = lines(out.text(timeout: 10)), errors = err.text(timeout: 10)
        XCTAssertEqual(status, 0, output + errors)
        // Standard error: the bar, redrawn in place, with its coloured meter, wiped before each result line.
        XCTAssertTrue(errors.contains(clearLine + "epoch 1/2 "), errors.debugDescription)
        XCTAssertTrue(errors.contains(clearLine + "epoch 2/2 "), errors.debugDescription)
        XCTAssertTrue(errors.contains(" 8/8  loss "), "the last step of an epoch is always drawn: \(errors.debugDescription)")
        XCTAssertTrue(errors.contains(colour), errors.debugDescription)
        XCTAssertTrue(errors.hasSuffix(clearLine), "the bar is wiped at the end: \(errors.debugDescription)")
        // Standard output: the text results only, no bar, no escape sequence, no carriage return.
        let resultLines = output.split(separator: "\n")
        XCTAssertEqual(resultLines.count, 3, output.debugDescription)
        XCTAssertTrue(resultLines[0].hasPrefix("epoch 1  train loss "), output)
        XCTAssertTrue(resultLines[1].hasPrefix("epoch 2  train loss "), output)
        XCTAssertTrue(resultLines[2].hasPrefix("test accuracy "), output)
        XCTAssertFalse(output.contains("\u{1B}") || output.contains("\r") || output.contains("█"), output.debugDescription)
    }

    func testADumbTerminalGetsNoBarAndNoColourLeavesTheMeterPlain() throws {
        let dumbOut = try PseudoTerminal(), dumbErr = try PseudoTerminal()
        let dumb = try TerminalRun.run(train("dumb"), stdout: .terminal(dumbOut), stderr: .terminal(dumbErr),
                                       environment: environment(["TERM": "dumb"]), timeout: 120)
        let dumbErrors = dumbErr.text(timeout: 10)
        XCTAssertEqual(dumb, 0, dumbErrors)
        XCTAssertEqual(dumbErrors, "", "TERM=dumb cannot redraw a line: nothing on standard error")
        XCTAssertEqual(lines(dumbOut.text(timeout: 10)).split(separator: "\n").count, 3)

        let plainOut = try PseudoTerminal(), plainErr = try PseudoTerminal()
        let plain = try TerminalRun.run(train("plain"), stdout: .terminal(plainOut), stderr: .terminal(plainErr),
                                        environment: environment(["NO_COLOR": "1"]), timeout: 120)
        let plainErrors = plainErr.text(timeout: 10)
        XCTAssertEqual(plain, 0, plainErrors)
        XCTAssertTrue(plainErrors.contains(clearLine + "epoch 1/2 ") && plainErrors.contains("█"), plainErrors.debugDescription)
        XCTAssertFalse(plainErrors.contains(colour), "NO_COLOR: \(plainErrors.debugDescription)")
        _ = plainOut.text(timeout: 10)
    }

    /// Standard output in a file (a script's pipe or log): one JSON object per line, each epoch then
    /// the summary, while the bar still goes to the terminal on standard error.
    func testStandardOutputInAFileGetsJSONLines() throws {
        let err = try PseudoTerminal()
        let file = directory.appendingPathComponent("train.jsonl")
        let status = try TerminalRun.run(train("json"), stdout: .file(file), stderr: .terminal(err), environment: environment([:]), timeout: 120)
        let errors = err.text(timeout: 10)
        XCTAssertEqual(status, 0, errors)
        XCTAssertTrue(errors.contains(clearLine + "epoch 2/2 "), errors.debugDescription)
        let objects = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], String($0))
        }
        XCTAssertEqual(objects.count, 3)
        XCTAssertEqual(objects[0]["epoch"] as? Int, 1)
        XCTAssertEqual(objects[1]["epoch"] as? Int, 2)
        XCTAssertNotNil(objects[2]["test_accuracy"], "\(objects[2])")
    }
}
