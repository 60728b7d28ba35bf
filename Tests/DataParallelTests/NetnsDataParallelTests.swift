import Foundation
import XCTest

/// scripts/cluster/netns-dataparallel.sh: a `replicas: 3` resnet20 trial run by a coordinator and
/// three workers in four network namespaces over links shaped to 1 Gbit/s, CurveZMQ on, and the
/// same trial with one host's link cut mid-step. The script checks processes and the store; this
/// test compares the checkpoints it leaves. Needs root; skipped otherwise.
final class NetnsDataParallelTests: XCTestCase {
    func testTrialAcrossShapedHostsMatchesOneProcessAndSurvivesACutLink() throws {
        guard getuid() == 0 else { throw XCTSkip("netns test needs root to create network namespaces (ip netns)") }
        guard ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"].contains(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw XCTSkip("netns test needs iproute2 (ip)")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("rt-netns-dp-\(getpid())-\(UUID().uuidString.prefix(8))")
        let script = try RTProcess.script(root.appendingPathComponent("scripts/cluster/netns-dataparallel.sh").path,
                                          ["--work", work.path, "--rate", "1gbit"], log: work.appendingPathExtension("log"))
        // Bounded: the script's own waits add up to well under this; a hang fails the test, it does not stall the suite.
        XCTAssertTrue(wait(timeout: 900) { !script.isRunning }, "the script did not finish:\n\(script.output)")
        script.kill(SIGTERM)
        if script.exitStatus == 77 { throw XCTSkip(script.output.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(script.exitStatus, 0, script.output)
        guard script.exitStatus == 0 else { return }

        func tensors(_ name: String) throws -> CheckpointTensors {
            try CheckpointTensors(path: work.appendingPathComponent("\(name).safetensors").path)
        }
        let fit = try tensors("fit"), cut = try tensors("cut"), single = try tensors("single"), local = try tensors("local")
        // Across hosts = one process normalizing the replicas' three slices (the equivalence tests'
        // 1e-4; 4 steps, see the script) = the same three replicas on one host.
        let fromSingle = assertSameTensors(try tensors("short"), single, "3 hosts vs one process (--bn-slices 3), 4 steps")
        let fromLocal = assertSameTensors(fit, local, "3 hosts vs 3 replicas on one host")
        // The trial that lost a host resumed from its checkpoint and ends where the uninterrupted one did.
        let fromFit = assertSameTensors(cut, fit, "cut and resumed vs uninterrupted")

        let result = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: work.appendingPathComponent("result.json"))) as? [String: Any])
        let metrics = try XCTUnwrap(result["fit"] as? [String: Any]), computeOnly = try XCTUnwrap(result["compute_only"] as? [String: Any])
        let imagesPerSecond = try XCTUnwrap(metrics["images_per_second"] as? Double)
        let wait = try XCTUnwrap(metrics["network_wait_ms_per_step"] as? Double)
        let allreduce = try XCTUnwrap(metrics["allreduce_ms_per_step"] as? Double)
        let localRate = try XCTUnwrap(computeOnly["images_per_second"] as? Double)
        XCTAssertEqual(metrics["steps"] as? Int, 40, "2 epochs of 20 steps")
        XCTAssertGreaterThan(imagesPerSecond, 0)
        XCTAssertGreaterThan(wait, 0, "a replica waits for the ring's sums at least to receive them")
        XCTAssertGreaterThan(allreduce, 0)
        XCTAssertGreaterThan(try XCTUnwrap((result["cut"] as? [String: Any])?["resumed_from_step"] as? Int), 0)
        print(String(format: "netns data-parallel at %@: %.0f images/s across hosts vs %.0f compute-only (%.0f%%); network wait %.1f ms/step, all-reduce %.1f ms/step; largest relative differences: %.1e vs one process, %.1e vs one host, %.1e cut vs uninterrupted",
                     (result["rate"] as? String) ?? "?", imagesPerSecond, localRate, 100 * imagesPerSecond / localRate, wait, allreduce,
                     Double(fromSingle), Double(fromLocal), Double(fromFit)))
        try? FileManager.default.removeItem(at: work)
        try? FileManager.default.removeItem(at: work.appendingPathExtension("log"))
    }
}
