import Foundation
import Robustness
import XCTest

/// The PyTorch reference scripts (scripts/reference/): finding a Python that imports torch, and
/// running a script. Tests that need it skip, saying how to get one, when there is none.
enum TorchReference {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func script(_ name: String) -> String { repository.appendingPathComponent("scripts/reference/\(name)").path }

    /// A Python that imports torch: $RT_TORCH_PYTHON, this checkout's .venv-torch, or the main checkout's.
    static func python() throws -> String {
        var candidates = [ProcessInfo.processInfo.environment["RT_TORCH_PYTHON"],
                          repository.appendingPathComponent(".venv-torch/bin/python").path].compactMap { $0 }
        if let common = try? run("/usr/bin/git", ["-C", repository.path, "rev-parse", "--path-format=absolute", "--git-common-dir"]) {
            let main = URL(fileURLWithPath: common.trimmingCharacters(in: .whitespacesAndNewlines)).deletingLastPathComponent()
            candidates.append(main.appendingPathComponent(".venv-torch/bin/python").path)
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            if (try? run(candidate, ["-c", "import torch"])) != nil { return candidate }
        }
        throw XCTSkip("PyTorch is not importable ($RT_TORCH_PYTHON, .venv-torch here or in the main checkout); run scripts/reference/setup_torch.sh to compare with PyTorch")
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw RobustnessError.incompatible("\(executable) \(arguments.joined(separator: " ")) failed:\n\(text)")
        }
        return text
    }
}
