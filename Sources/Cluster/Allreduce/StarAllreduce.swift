import CZeroMQ
import Foundation

/// The naive all-reduce, the ring's yardstick in `rt bench allreduce --hosts`: every rank sends
/// its whole buffer to rank 0, which sums them and then sends the total back to every rank: a
/// flat reduce followed by a flat broadcast (MPI_Reduce + MPI_Bcast without trees). Rank 0's link
/// carries (k−1)·n bytes in and then (k−1)·n bytes out, so its time grows with k where the ring's
/// stays about 2n/R. Same transport as the ring: ZeroMQ over TCP, CurveZMQ, messages of
/// `pieceBytes`. Benchmark only: no heartbeats (a receive that waits `timeout` fails instead)
/// and rank 0 adds contributions in arrival order, so sums are not bitwise reproducible.
public final class StarAllreduce {
    public let rank: Int
    public let worldSize: Int
    private let pieceBytes: Int
    private let context: ZMQContext
    private let socket: ZMQSocket
    private var zap: ZAPHandler?
    /// Rank 0 only: the routing id of each rank (index = rank).
    private var peers: [Data] = []

    /// Rank 0 binds `endpoint`, the others connect to it; returns once every rank has said hello.
    /// With `keys`, `publicKeys` holds every rank's Z85 public key (index = rank); rank 0 admits
    /// only those.
    public init(rank: Int, worldSize: Int, endpoint: String, keys: CurveKeyPair?, publicKeys: [String],
                pieceBytes: Int = 512 << 10, timeout: TimeInterval = 60) throws {
        precondition(worldSize >= 2 && (0..<worldSize).contains(rank) && pieceBytes >= 4)
        self.rank = rank
        self.worldSize = worldSize
        self.pieceBytes = pieceBytes
        context = try ZMQContext()
        if rank == 0, keys != nil {
            let allowed = Dictionary(uniqueKeysWithValues: publicKeys.enumerated().dropFirst().map { (Z85.decode($0.element)!, "rank-\($0.offset)") })
            let handler = try ZAPHandler(context: context, allowList: CurveAllowList(names: allowed))
            handler.start()
            zap = handler
        }
        socket = try context.socket(rank == 0 ? .router : .dealer)
        try socket.setLinger(milliseconds: 1000)
        // Unbounded queues, as the ring's: rank 0 queues k−1 copies of the total at once.
        try socket.setSendHighWaterMark(0)
        try socket.setReceiveHighWaterMark(0)
        try socket.setOption(ZMQ_RCVTIMEO, Int32(timeout * 1000))
        if rank == 0 {
            try socket.setRouterMandatory(true)
            if let keys { try TransportSecurity.curveServer(keys).apply(to: socket) }
            try socket.bind(endpoint)
            // Hellos, in any order; then everyone is told to go, so no total is sent before its
            // rank is connected.
            peers = [Data](repeating: Data(), count: worldSize)
            for _ in 1..<worldSize {
                let hello = try receive()
                guard hello.count == 2, let sender = Int(String(decoding: hello[1], as: UTF8.self)), (1..<worldSize).contains(sender) else {
                    throw AllreduceError.invalidConfiguration("star: bad hello")
                }
                peers[sender] = hello[0]
            }
            for peer in peers.dropFirst() { try socket.send([peer, Data()]) }
        } else {
            try socket.setRoutingID(Data("star/\(rank)".utf8))
            if let keys { try TransportSecurity.curveClient(keys, serverPublicKey: publicKeys[0]).apply(to: socket) }
            try socket.connect(endpoint)
            try socket.send([Data("\(rank)".utf8)])
            _ = try receive()
        }
    }

    deinit { close() }

    public func close() {
        zap?.stop()
        zap = nil
        socket.close()
        context.terminate()
    }

    private func receive() throws -> [Data] {
        guard let message = try socket.receive() else { throw AllreduceError.closed(reason: "star: nothing to receive") }
        return message.frames
    }

    private func pieces(_ count: Int) -> [Range<Int>] {
        let size = max(1, pieceBytes / 4)
        return stride(from: 0, to: count, by: size).map { $0 ..< min($0 + size, count) }
    }

    /// Sums `count` values at `buffer` over every rank, in place.
    public func sum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        let pieces = pieces(count)
        if rank != 0 {
            for piece in pieces {
                try socket.send([Data(bytesNoCopy: buffer + piece.lowerBound, count: piece.count * 4, deallocator: .none)])
            }
            for piece in pieces {
                let frames = try receive()
                guard frames.count == 1, frames[0].count == piece.count * 4 else { throw AllreduceError.closed(reason: "star: bad total piece") }
                frames[0].withUnsafeBytes { UnsafeMutableRawPointer(buffer + piece.lowerBound).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            }
            return
        }
        // Reduce: each rank's pieces arrive in order on its connection, interleaved with the others'.
        var next = [Int](repeating: 0, count: worldSize)
        for _ in 0 ..< (worldSize - 1) * pieces.count {
            let frames = try receive()
            guard frames.count == 2, let sender = peers.firstIndex(of: frames[0]), sender > 0, next[sender] < pieces.count else {
                throw AllreduceError.closed(reason: "star: unexpected message during the reduce")
            }
            let piece = pieces[next[sender]]
            next[sender] += 1
            guard frames[1].count == piece.count * 4 else { throw AllreduceError.closed(reason: "star: bad piece from rank \(sender)") }
            frames[1].withUnsafeBytes { raw in
                let incoming = raw.bindMemory(to: Float.self)
                let destination = buffer + piece.lowerBound
                for i in 0..<piece.count { destination[i] += incoming[i] }
            }
        }
        // Broadcast: piece by piece to every rank, so the k−1 streams leave together. Copied into
        // libzmq, as the buffer may be written again (the next sum) before the last copy is out.
        for piece in pieces {
            let total = Data(bytesNoCopy: buffer + piece.lowerBound, count: piece.count * 4, deallocator: .none)
            for peer in peers.dropFirst() { try socket.send([peer, total]) }
        }
    }

    /// Returns on rank 0 once every rank has called it (so every total sent before it was
    /// received), on the others once rank 0 has: the end of a timed series of sums.
    public func barrier() throws {
        if rank == 0 {
            for _ in 1..<worldSize {
                let frames = try receive()
                guard frames.count == 2, frames[1].isEmpty else { throw AllreduceError.closed(reason: "star: unexpected message at the barrier") }
            }
            for peer in peers.dropFirst() { try socket.send([peer, Data()]) }
        } else {
            try socket.send([Data()])
            _ = try receive()
        }
    }
}
