import Foundation

/// The ring algorithms, run on the communication thread over a formed `RingLink`.
///
/// Sum (reduce-scatter, then all-gather): the buffer of n values is cut into k chunks,
/// chunk c = [n·c/k, n·(c+1)/k). In reduce-scatter stage s (0..<k−1) rank r sends chunk r−s
/// and adds the chunk r−s−1 it receives from the left into its own; after k−1 stages rank r
/// holds the total of chunk r+1. In all-gather stage t (0..<k−1) it passes on the totals, so
/// each rank sends 2(k−1)/k of the buffer. Every chunk is summed in one fixed order,
///
///     total(c) = ((x[c] + x[c+1]) + x[c+2]) + ... + x[c+k−1]      (ranks mod k),
///
/// and every rank receives that same total, so a run is bitwise reproducible for a given k.
/// Chunks travel in pieces of at most `pieceBytes`, and a received piece is forwarded as soon
/// as it is reduced: the ring is pipelined, so big sums run at link speed.
extension RingLink {
    private func mod(_ value: Int) -> Int { ((value % worldSize) + worldSize) % worldSize }

    /// The index range of chunk `c` of a buffer of `count` values.
    static func chunk(_ c: Int, of count: Int, worldSize: Int) -> Range<Int> {
        count * c / worldSize ..< count * (c + 1) / worldSize
    }

    private func pieces(of range: Range<Int>) -> [Range<Int>] {
        let size = max(1, configuration.pieceBytes / MemoryLayout<Float>.stride)
        return stride(from: range.lowerBound, to: range.upperBound, by: size).map { $0 ..< min($0 + size, range.upperBound) }
    }

    /// Sums `count` values at `buffer` over every rank, in place.
    func sum(_ buffer: UnsafeMutablePointer<Float>, count: Int, step: UInt64, bucket: UInt32) throws {
        let k = worldSize
        guard k > 1, count > 0 else { return }
        var sent: UInt32 = 0, received: UInt32 = 0
        func send(_ piece: Range<Int>) throws {
            // Zero-copy is safe: a piece sent is next overwritten when its total comes back, which
            // needs the right neighbour to have received it; and `waitForSends` ends the operation.
            try sendData(.data, step: step, bucket: bucket, chunk: sent,
                         payload: UnsafeRawBufferPointer(start: buffer + piece.lowerBound, count: piece.count * 4), zeroCopy: true)
            sent += 1
        }
        for piece in pieces(of: Self.chunk(rank, of: count, worldSize: k)) { try send(piece) }
        let stages = 2 * (k - 1)
        var scratch: [Float] = []
        for stage in 0..<stages {
            let reducing = stage < k - 1
            let c = reducing ? mod(rank - stage - 1) : mod(rank - (stage - (k - 1)))
            for piece in pieces(of: Self.chunk(c, of: count, worldSize: k)) {
                let destination = buffer + piece.lowerBound
                try receiveData(.data, step: step, bucket: bucket, chunk: received, bytes: piece.count * 4) { payload in
                    var source = payload.baseAddress!
                    if Int(bitPattern: source) % MemoryLayout<Float>.alignment != 0 {
                        // libzmq does not promise alignment: copy to an aligned scratch first.
                        scratch = [Float](repeating: 0, count: piece.count)
                        scratch.withUnsafeMutableBytes { $0.copyMemory(from: payload) }
                        source = scratch.withUnsafeBytes { UnsafeRawPointer($0.baseAddress!) }
                    }
                    if reducing {
                        // The partial sum from the left comes first: total(c) accumulates in ring order.
                        let incoming = source.assumingMemoryBound(to: Float.self)
                        for i in 0..<piece.count { destination[i] = incoming[i] + destination[i] }
                    } else {
                        UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: piece.count * 4)
                    }
                }
                received += 1
                if stage < stages - 1 { try send(piece) }
            }
        }
        try waitForSends()
    }

    /// Every rank's `bytes` (all of the same length), indexed by rank: k−1 stages around the ring.
    func gather(_ bytes: [UInt8], step: UInt64, bucket: UInt32) throws -> [[UInt8]] {
        let k = worldSize
        var blocks = [[UInt8]](repeating: [], count: k)
        blocks[rank] = bytes
        guard k > 1 else { return blocks }
        try bytes.withUnsafeBytes { try sendData(.gather, step: step, bucket: bucket, chunk: 0, payload: $0) }
        for stage in 0..<(k - 1) {
            let origin = mod(rank - stage - 1)
            try receiveData(.gather, step: step, bucket: bucket, chunk: UInt32(stage), bytes: bytes.count) { payload in
                blocks[origin] = Array(payload)
            }
            if stage < k - 2 {
                try blocks[origin].withUnsafeBytes { try sendData(.gather, step: step, bucket: bucket, chunk: UInt32(stage + 1), payload: $0) }
            }
        }
        return blocks
    }
}
