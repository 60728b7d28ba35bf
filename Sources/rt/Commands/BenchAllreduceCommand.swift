import ArgumentParser
import Cluster
import Foundation

/// `rt bench allreduce`: ring all-reduce bus bandwidth against raw ZeroMQ point-to-point
/// throughput, both measured in this run on loopback TCP (BENCHMARKS.md).
struct BenchAllreduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Ring all-reduce bus bandwidth vs raw ZeroMQ point-to-point throughput on loopback.",
        discussion: """
        Each rank is a thread with its own ZeroMQ context, talking over tcp://127.0.0.1. Bus bandwidth
        is 2(k-1)/k x bytes / time per all-reduce (what each rank sends per second). The point-to-point
        reference streams the same bytes in the same message size over one DEALER->ROUTER link (p2p),
        and over k such links at once, joined in a ring (ring p2p, per link): the most a ring can get
        out of this machine.

        With --hosts and --rank (one process per host, e.g. network namespaces joined by shaped links:
        scripts/bench/allreduce-links.sh), this process is one rank of a ring across those hosts, over
        TCP with CurveZMQ (--keys), and the yardstick is a naive all-reduce (reduce to rank 0, then
        broadcast) over the same links; rank 0 prints the results.
        """)

    @Option(help: "Ranks to measure, comma-separated.") var ranks = "2,3"
    @Option(help: "Buffer sizes in MiB, comma-separated.") var sizes = "4,64"
    @Option(help: "Seconds to spend per measurement (at least 3 repetitions).") var seconds = 2.0
    @Option(name: .customLong("piece-kb"), help: "Message size of the ring and of the point-to-point streams, in KiB.") var pieceKilobytes = 512
    @Flag(help: "Print one JSON object (snake_case keys) instead of text.") var json = false
    @Option(help: "Comma-separated addresses, one rank per host, in rank order (with --rank): measure across hosts.") var hosts: String?
    @Option(help: "This process's rank in --hosts.") var rank: Int?
    @Option(help: "With --hosts: the ring listens on this port, the naive all-reduce's rank 0 on the next.") var port = 6200
    @Option(help: "With --hosts: a directory holding one key directory per rank (`rt keys generate --output DIR/<rank>`); CurveZMQ on every link.") var keys: String?

    struct Row: Codable {
        var ranks: Int
        var megabytes: Int
        var repetitions: Int
        var secondsPerAllreduce: Double
        var busGbps: Double
        var p2pGbps: Double
        var ringP2pGbps: Double
        var ratioToP2p: Double
        var ratioToRingP2p: Double

        /// Spelled out: JSONLines' snake_case would split "P2p" into "p_2p".
        enum CodingKeys: String, CodingKey {
            case ranks, megabytes, repetitions
            case secondsPerAllreduce = "seconds_per_allreduce", busGbps = "bus_gbps", p2pGbps = "p2p_gbps"
            case ringP2pGbps = "ring_p2p_gbps", ratioToP2p = "ratio_to_p2p", ratioToRingP2p = "ratio_to_ring_p2p"
        }
    }
    struct Results: Codable { var rows: [Row]; var pieceBytes: Int; var loadAverageBefore: String; var loadAverageAfter: String }

    func validate() throws {
        guard let hosts else { return }
        guard let rank else { throw ValidationError("--hosts needs --rank") }
        let k = hostAddresses(hosts).count
        guard k >= 2, (0..<k).contains(rank) else { throw ValidationError("--rank \(rank) is not one of the \(k) hosts (at least 2)") }
    }

    func hostAddresses(_ hosts: String) -> [String] { hosts.split(separator: ",").map(String.init) }

    func run() throws {
        try LogOptions.applyEnvironment(default: .warning) // the rings' lines would interleave with the results
        if let hosts, let rank { return try runAcrossHosts(hostAddresses(hosts), rank: rank) }
        let before = loadAverage()
        var rows: [Row] = []
        let ks = ranks.split(separator: ",").compactMap { Int($0) }.filter { $0 >= 2 }
        let megabyteSizes = sizes.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        let line = ProgressLine()
        for k in ks {
            for megabytes in megabyteSizes {
                line.step(rows.count + 1, of: ks.count * megabyteSizes.count, "k=\(k), \(megabytes) MiB")
                rows.append(try measure(k: k, megabytes: megabytes))
                line.clear()
                if !json {
                    let r = rows.last!
                    print(String(format: "k=%d %4d MiB: %.2f ms, bus %.2f GB/s | p2p %.2f GB/s (%.0f%%) | ring p2p %.2f GB/s per link (%.0f%%)",
                                 k, megabytes, r.secondsPerAllreduce * 1000, r.busGbps, r.p2pGbps, r.ratioToP2p * 100,
                                 r.ringP2pGbps, r.ratioToRingP2p * 100))
                }
            }
        }
        let results = Results(rows: rows, pieceBytes: pieceKilobytes << 10, loadAverageBefore: before, loadAverageAfter: loadAverage())
        if json { try JSONLines.print(results) }
        else { print("load average: before \(results.loadAverageBefore), after \(results.loadAverageAfter)") }
    }

    private func measure(k: Int, megabytes: Int) throws -> Row {
        let count = megabytes << 18 // Floats
        let sentPerRank = 2 * (k - 1) * count * 4 / k
        let (perAllreduce, repetitions) = try timeAllreduce(k: k, count: count, session: "bench-\(k)-\(megabytes)")
        let bus = Double(sentPerRank) / perAllreduce
        // The yardsticks, right after (the rings closed), with the same bytes per link.
        let total = sentPerRank * repetitions
        let p2p = Double(total) / (try LinkThroughput.measure(bytes: total, pieceBytes: pieceKilobytes << 10))
        let ringP2p = Double(total) / (try LinkThroughput.measure(bytes: total, pieceBytes: pieceKilobytes << 10, streams: k))
        return Row(ranks: k, megabytes: megabytes, repetitions: repetitions, secondsPerAllreduce: perAllreduce, busGbps: bus / 1e9,
                   p2pGbps: p2p / 1e9, ringP2pGbps: ringP2p / 1e9, ratioToP2p: bus / p2p, ratioToRingP2p: bus / ringP2p)
    }

    /// Seconds per all-reduce of `count` Floats on k ranks, and how many were timed.
    private func timeAllreduce(k: Int, count: Int, session: String) throws -> (Double, Int) {
        let rings = try (0..<k).map {
            try RingCommunicator(configuration: RingConfiguration(rank: $0, worldSize: k, bind: "tcp://127.0.0.1:*", session: session,
                                                                  pieceBytes: pieceKilobytes << 10))
        }
        defer { rings.forEach { $0.close() } }
        let endpoints = rings.map(\.boundEndpoint)
        try everyRank(k) { try rings[$0].connect(endpoints: endpoints) }
        let buffers = (0..<k).map { rank -> UnsafeMutablePointer<Float> in
            let b = UnsafeMutablePointer<Float>.allocate(capacity: count)
            b.initialize(repeating: Float(rank), count: count)
            return b
        }
        defer { buffers.forEach { $0.deallocate() } }
        // One untimed all-reduce (first-touch of socket buffers), then a fixed number of repetitions.
        try everyRank(k) { try rings[$0].sum(buffers[$0], count: count, step: 0, bucket: 0) }
        let probe = Date()
        try everyRank(k) { try rings[$0].sum(buffers[$0], count: count, step: 1, bucket: 0) }
        let repetitions = max(3, Int(seconds / max(Date().timeIntervalSince(probe), 1e-4)))
        let start = Date()
        try everyRank(k) { rank in
            for step in 0..<repetitions { try rings[rank].sum(buffers[rank], count: count, step: 2 + step, bucket: 0) }
        }
        return (Date().timeIntervalSince(start) / Double(repetitions), repetitions)
    }

    /// Runs `body(rank)` on k threads at once (ring operations need every rank).
    private func everyRank(_ k: Int, _ body: @escaping (Int) throws -> Void) throws {
        final class FirstError: @unchecked Sendable {
            let lock = NSLock()
            var error: Error?
            func keep(_ e: Error) { lock.lock(); error = error ?? e; lock.unlock() }
        }
        let group = DispatchGroup()
        let failure = FirstError()
        for rank in 0..<k {
            group.enter()
            Thread {
                do { try body(rank) } catch { failure.keep(error) }
                group.leave()
            }.start()
        }
        group.wait()
        if let error = failure.error { throw error }
    }
}

/// The 1, 5 and 15 minute load averages, as /proc/loadavg has them.
func loadAverage() -> String {
    ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "unknown").split(separator: " ").prefix(3).joined(separator: " ")
}
