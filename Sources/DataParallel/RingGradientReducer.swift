import Cluster
import NeuralNetworks
import TensorEngine

/// `GradientReducer` over a ring all-reduce: the adapter between the engine (tensors) and the
/// cluster (Float buffers), so that neither knows the other.
///
/// Each step's gradients go out in buckets (`GradientBuckets`): when backward reports the last
/// gradient of a bucket final, the bucket is packed (times this replica's weight) and queued on
/// the ring's communication thread, which sums it while backward goes on with earlier layers.
/// Buckets are queued strictly in index order, so every replica issues the same operations in
/// the same order. `finishStep` waits for all of them and unpacks the sums into the gradients.
public final class RingGradientReducer: GradientReducer {
    public let ring: RingCommunicator
    public let settings: DataParallelSettings
    public var rank: Int { ring.rank }
    public var worldSize: Int { ring.worldSize }
    public var communicationSeconds: Double { ring.busySeconds }

    private var layout: GradientBuckets?
    private var remaining: [Int] = []
    private var nextToSend = 0
    private var weight: Float = 1
    private var step = 0
    /// A failure of a submit made from inside backward (which cannot throw), rethrown after it.
    private var deferredError: Error?

    /// Operation names on the wire besides the gradient buckets of a step.
    private enum Tag {
        static let sum = 0xFFFF_0001
        static let checksum = 0xFFFF_0002
        static let buffers = 0xFFFF_0003
    }

    public init(ring: RingCommunicator, settings: DataParallelSettings = DataParallelSettings()) {
        self.ring = ring
        self.settings = settings
    }

    public func beginStep(parameters: [(String, Tensor)], weight: Float) throws {
        let tensors = parameters.map(\.1)
        if layout?.identities != tensors.map(ObjectIdentifier.init) {
            layout = GradientBuckets(parameters: tensors, bucketBytes: settings.bucketBytes)
        }
        let layout = layout!
        remaining = layout.buckets.map(\.parameters.count)
        nextToSend = 0
        self.weight = weight
        deferredError = nil
        step += 1
    }

    public func gradientReady(_ parameter: Tensor) {
        guard let layout, let index = layout.bucket(of: parameter) else { return }
        remaining[index] -= 1
        if remaining[index] == 0 { sendReadyBuckets() }
    }

    /// Queues the complete buckets from `nextToSend` on, in index order (a bucket that is
    /// ready early waits for the ones before it).
    private func sendReadyBuckets() {
        guard let layout else { return }
        while nextToSend < layout.buckets.count && remaining[nextToSend] == 0 {
            send(nextToSend)
            nextToSend += 1
        }
    }

    private func send(_ index: Int) {
        guard let layout, deferredError == nil else { return }
        layout.pack(index, weight: weight)
        let bucket = layout.buckets[index]
        do { try ring.submitSum(bucket.buffer, count: bucket.count, step: step, bucket: index) } catch { deferredError = error }
    }

    public func finishStep() throws {
        guard let layout else { return }
        // Buckets whose parameters got no gradient here (unused, or an empty shard) go out now.
        while nextToSend < layout.buckets.count {
            send(nextToSend)
            nextToSend += 1
        }
        if let deferredError { throw deferredError }
        try ring.waitForAll()
        for index in layout.buckets.indices { layout.unpack(index) }
    }

    public func sum(_ values: [Float]) throws -> [Float] {
        var totals = values
        try totals.withUnsafeMutableBufferPointer { try ring.sum($0.baseAddress!, count: $0.count, step: step, bucket: Tag.sum) }
        return totals
    }

    public func parametersUpdated(_ parameters: [(String, Tensor)], iteration: Int) throws {
        guard settings.checksumEvery > 0, iteration % settings.checksumEvery == 0 else { return }
        let mine = ParameterChecksum.of(parameters)
        let all = try ring.gather(ParameterChecksum.bytes(mine), step: step, bucket: Tag.checksum).map(ParameterChecksum.value)
        guard all.allSatisfy({ $0 == mine }) else { throw AllreduceError.checksumMismatch(iteration: iteration, checksums: all) }
    }

    public func averageBuffers(_ buffers: [(String, Tensor)]) throws {
        let count = buffers.reduce(0) { $0 + $1.1.count }
        guard count > 0 else { return }
        var flat = [Float](repeating: 0, count: count)
        var offset = 0
        for (_, b) in buffers {
            for i in 0..<b.count { flat[offset + i] = b.pointer[i] }
            offset += b.count
        }
        try flat.withUnsafeMutableBufferPointer { try ring.sum($0.baseAddress!, count: count, step: step, bucket: Tag.buffers) }
        let k = Float(worldSize)
        offset = 0
        for (_, b) in buffers {
            for i in 0..<b.count { b.pointer[i] = flat[offset + i] / k }
            offset += b.count
        }
    }
}
