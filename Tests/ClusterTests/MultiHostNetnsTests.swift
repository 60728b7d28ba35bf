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
        var environment = ProcessInfo.processInfo.environment
        environment["RT_BINARY"] = try ProcessHarness.rtBinary().path
        let outcome = ShellCommand(command: ShellCommand.quoted(script.path), environment: environment, timeout: 300).run()
        let text = outcome.text
        if outcome.status == 77 { throw XCTSkip(text.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(outcome.status, 0, text)
        XCTAssertTrue(text.contains("PASS"), text)
    }

    /// scripts/bench/allreduce-links.sh, small and short: 2 and 3 hosts on links shaped to
    /// 500 Mbit/s, 4 MiB. Checks the JSON's shape and that both all-reduces moved data at a
    /// plausible rate; the targets themselves are for the recorded run (BENCHMARKS.md), not for
    /// a test sharing 2 cores with the rest of the suite.
    func testAllreduceOnShapedLinksPrintsRingAndNaiveBandwidth() throws {
        guard getuid() == 0 else { throw XCTSkip("netns benchmark needs root to create network namespaces (ip netns)") }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/bench/allreduce-links.sh")
        var environment = ProcessInfo.processInfo.environment
        environment["RT_BINARY"] = try ProcessHarness.rtBinary().path
        let command = ([script.path, "--rate", "500mbit", "--ranks", "2,3", "--sizes", "4", "--seconds", "0.5", "--json"]).map(ShellCommand.quoted).joined(separator: " ")
        let outcome = ShellCommand(command: command, environment: environment, timeout: 300, separateErrors: true).run()
        let text = Data(outcome.output.utf8), log = outcome.errors
        if outcome.status == 77 { throw XCTSkip(outcome.output) }
        XCTAssertEqual(outcome.status, 0, log)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: text) as? [String: Any], log)
        XCTAssertEqual(json["rate_gbps"] as? Double, 0.5)
        let results = try XCTUnwrap(json["results"] as? [[String: Any]])
        XCTAssertEqual(results.compactMap { $0["ranks"] as? Int }, [2, 3])
        for row in results {
            let ring = try XCTUnwrap(row["ring_bus_gbps"] as? Double), naive = try XCTUnwrap(row["naive_bus_gbps"] as? Double)
            XCTAssertEqual(row["mib"] as? Int, 4)
            // Neither can beat the shaped rate (tbf's burst aside); both must move real data.
            XCTAssert(ring > 0.1 && ring < 0.55, "ring \(ring) Gbit/s")
            XCTAssert(naive > 0.05 && naive < 0.3, "naive \(naive) Gbit/s")
        }
    }
}
