import Foundation
import XCTest

/// Runs scripts/cluster/netns-test.sh: three network namespaces, CurveZMQ over TCP between
/// them, one worker host's link cut mid-sweep and restored. Needs root; skipped otherwise.
final class MultiHostNetnsTests: XCTestCase {
    func testSweepAcrossNamespacesSurvivesACutLinkAndTheHostRejoins() throws {
        guard getuid() == 0 else { throw XCTSkip("netns test needs root to create network namespaces (ip netns)") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") || FileManager.default.isExecutableFile(atPath: "/sbin/ip")
            || FileManager.default.isExecutableFile(atPath: "/usr/bin/ip") else {
            throw XCTSkip("netns test needs iproute2 (ip)")
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/cluster/netns-test.sh")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path]
        var environment = ProcessInfo.processInfo.environment
        environment["RT_BINARY"] = try ProcessHarness.rtBinary().path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Read before waiting, so a chatty failure cannot fill the pipe and block the script.
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 77 { throw XCTSkip(text.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("PASS"), text)
    }
}
