import ArgumentParser
import Benchmarks
import Cluster
import Foundation

/// `rt bench allreduce --hosts A0,A1,... --rank r`: this process is rank r of a ring across hosts
/// (one process per host), and of the naive all-reduce measured over the same links right after,
/// per size. Both run over TCP, with CurveZMQ when --keys is given. Rank 0 times both and prints.
extension BenchAllreduceCommand {
    struct HostRow: Codable {
        var megabytes: Int
        var ringRepetitions: Int
        var ringSeconds: Double
        /// Bus bandwidth, 2(k−1)/k × bytes / time, in Gbit/s (the unit links are sold in).
        var ringBusGbitps: Double
        var naiveRepetitions: Int
        var naiveSeconds: Double
        var naiveBusGbitps: Double
        /// Cores in use on average during each timed series: by the k ranks together (their own
        /// CPU time, libzmq's threads and the kernel work charged to them) and machine-wide. The
        /// difference is everything else this machine ran meanwhile.
        var ringRanksCores: Double
        var ringMachineCores: Double
        var naiveRanksCores: Double
        var naiveMachineCores: Double
    }
    struct HostResults: Codable {
        var ranks: Int
        var pieceBytes: Int
        var curve: Bool
        var rows: [HostRow]
        var loadAverageBefore: String
        var loadAverageAfter: String
    }

    /// `rank` is one of at least 2 `addresses` (`validate()` checks it).
    func runAcrossHosts(_ addresses: [String], rank: Int) throws {
        let k = addresses.count
        var ownKeys: CurveKeyPair?
        var publicKeys: [String] = []
        if let keys {
            let directory = URL(fileURLWithPath: keys)
            ownKeys = try CurveKeyPair.read(from: directory.appendingPathComponent("\(rank)"))
            publicKeys = try (0..<k).map { try CurveKeyPair.readKey(directory.appendingPathComponent("\($0)/\(CurveKeyPair.publicFileName)")) }
        }
        let before = loadAverage()
        let piece = pieceKilobytes << 10
        let security = ownKeys.map { RingSecurity(keys: $0, peerPublicKeys: publicKeys) }
        let ring = try RingCommunicator(configuration: RingConfiguration(rank: rank, worldSize: k, bind: "tcp://\(addresses[rank]):\(port)",
                                                                         session: "bench-hosts-\(k)", pieceBytes: piece, security: security))
        defer { ring.close() }
        try ring.connect(endpoints: addresses.map { "tcp://\($0):\(port)" })
        let star = try StarAllreduce(rank: rank, worldSize: k, endpoint: "tcp://\(addresses[0]):\(port + 1)", keys: ownKeys,
                                     publicKeys: publicKeys, pieceBytes: piece)
        defer { star.close() }

        let steps = StepCounter()
        var rows: [HostRow] = []
        for megabytes in sizes.split(separator: ",").compactMap({ Int($0) }) where megabytes > 0 {
            let count = megabytes << 18
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { buffer.deallocate() }
            // Each rank 1/k: the sums stay 1, so no value grows without bound over the repetitions.
            buffer.initialize(repeating: 1 / Float(k), count: count)
            let ringTimes = try timed(agreeingWith: ring, steps: steps) {
                try ring.sum(buffer, count: count, step: steps.take(), bucket: 0)
            }
            try star.barrier()
            let naiveTimes = try timed(agreeingWith: ring, steps: steps, barrier: { try star.barrier() }) {
                try star.sum(buffer, count: count)
            }
            try check(ring: ring, star: star, buffer: buffer, count: count, steps: steps)
            let sent = Double(2 * (k - 1) * count * 4 / k) * 8 / 1e9 // Gbit each rank sends per all-reduce
            rows.append(HostRow(megabytes: megabytes, ringRepetitions: ringTimes.repetitions, ringSeconds: ringTimes.seconds,
                                ringBusGbitps: sent / ringTimes.seconds, naiveRepetitions: naiveTimes.repetitions,
                                naiveSeconds: naiveTimes.seconds, naiveBusGbitps: sent / naiveTimes.seconds,
                                ringRanksCores: ringTimes.ranksCores, ringMachineCores: ringTimes.machineCores,
                                naiveRanksCores: naiveTimes.ranksCores, naiveMachineCores: naiveTimes.machineCores))
            if rank == 0 && !json {
                let r = rows.last!
                print(String(format: "k=%d %4d MiB: ring %.1f ms, bus %.3f Gbit/s | naive %.1f ms, bus %.3f Gbit/s (ring %.2fx)",
                             k, megabytes, r.ringSeconds * 1000, r.ringBusGbitps, r.naiveSeconds * 1000, r.naiveBusGbitps,
                             r.ringBusGbitps / r.naiveBusGbitps))
            }
        }
        guard rank == 0 else { return }
        let results = HostResults(ranks: k, pieceBytes: piece, curve: ownKeys != nil, rows: rows,
                                  loadAverageBefore: before, loadAverageAfter: loadAverage())
        if json { try JSONLines.print(results) }
        else { print("load average: before \(results.loadAverageBefore), after \(results.loadAverageAfter)") }
    }

    /// Runs `body` once untimed (connections warm, and its time sizes the series), then a series
    /// of `--seconds` (at least 3 runs; rank 0's count, so every rank runs the same number) timed
    /// between two barriers. Returns seconds per run, the count, and the cores the ranks (summed
    /// over the ring) and the whole machine used meanwhile (meaningful on rank 0).
    private func timed(agreeingWith ring: RingCommunicator, steps: StepCounter, barrier: (() throws -> Void)? = nil,
                       _ body: () throws -> Void) throws -> (seconds: Double, repetitions: Int, ranksCores: Double, machineCores: Double) {
        let probe = Date()
        try body()
        let mine = Int64(max(3, Int(seconds / max(Date().timeIntervalSince(probe), 1e-4))))
        let counts = try ring.gather(withUnsafeBytes(of: mine.bigEndian) { Array($0) }, step: steps.take(), bucket: 1)
        let repetitions = Int(counts[0].reduce(Int64(0)) { $0 << 8 | Int64($1) })
        try barrier?()
        let (cpu0, machine0, start) = (EngineBenchmark.cpuSeconds(), MachineCPU.sample(), Date())
        for _ in 0..<repetitions { try body() }
        try barrier?()
        let wall = Date().timeIntervalSince(start)
        let machineCores = MachineCPU.sample().cores(since: machine0)
        let cpu = EngineBenchmark.cpuSeconds() - cpu0
        let cpus = try ring.gather(withUnsafeBytes(of: cpu.bitPattern.bigEndian) { Array($0) }, step: steps.take(), bucket: 1)
        let ranksCPU = cpus.map { Double(bitPattern: $0.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) }.reduce(0, +)
        return (wall / Double(repetitions), repetitions, ranksCPU / wall, machineCores)
    }

    /// Both all-reduces must really sum: rank r contributes r + 1 everywhere, the totals are
    /// k(k+1)/2 exactly (small integers add exactly in Float).
    private func check(ring: RingCommunicator, star: StarAllreduce, buffer: UnsafeMutablePointer<Float>, count: Int, steps: StepCounter) throws {
        let k = ring.worldSize
        let expected = Float(k * (k + 1) / 2)
        for (name, sum) in [("ring", { try ring.sum(buffer, count: count, step: steps.take(), bucket: 0) }), ("naive", { try star.sum(buffer, count: count) })] {
            buffer.update(repeating: Float(ring.rank + 1), count: count)
            try sum()
            if let bad = (0..<count).first(where: { buffer[$0] != expected }) {
                throw CommandFailure("\(name) all-reduce: value \(buffer[bad]) at index \(bad), expected \(expected)")
            }
        }
        // Rank 0's last totals may still be queued: closing now would drop them (after the linger).
        try star.barrier()
    }
}

/// Names each ring operation (its step), in the same order on every rank.
private final class StepCounter {
    private var next = 0
    func take() -> Int { defer { next += 1 }; return next }
}

/// The machine's busy and total CPU time from /proc/stat (machine-wide, also inside a namespace).
private struct MachineCPU {
    var busy: Double, total: Double
    static func sample() -> MachineCPU {
        let line = ((try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? "").split(separator: "\n").first ?? ""
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) } // user nice system idle iowait irq softirq steal ...
        guard fields.count >= 8 else { return MachineCPU(busy: 0, total: 0) }
        let idle = fields[3] + fields[4]
        return MachineCPU(busy: fields[0..<8].reduce(0, +) - idle, total: fields[0..<8].reduce(0, +))
    }
    /// Cores busy on average since `earlier`.
    func cores(since earlier: MachineCPU) -> Double {
        let total = self.total - earlier.total
        return total > 0 ? Double(ProcessInfo.processInfo.activeProcessorCount) * (busy - earlier.busy) / total : 0
    }
}
