import TensorEngine

/// The trainable parameters cut into buckets of about `bucketBytes`, in reverse model order:
/// backward finishes the last layers first, so the first bucket is ready first. Each bucket
/// owns one flat buffer that its parameters' gradients are packed into, summed over the ring,
/// and unpacked from. A parameter bigger than a bucket gets a bucket of its own.
final class GradientBuckets {
    struct Bucket {
        var parameters: [Tensor]
        /// Where each parameter starts in `buffer`.
        var offsets: [Int]
        var count: Int
        var buffer: UnsafeMutablePointer<Float>
    }

    let buckets: [Bucket]
    /// The parameters this layout was made for (a changed set, e.g. after freezing, needs a new one).
    let identities: [ObjectIdentifier]
    private let bucketOf: [ObjectIdentifier: Int]

    init(parameters: [Tensor], bucketBytes: Int) {
        identities = parameters.map(ObjectIdentifier.init)
        let limit = max(1, bucketBytes / MemoryLayout<Float>.stride)
        var groups: [[Tensor]] = []
        var current: [Tensor] = [], size = 0
        for p in parameters.reversed() {
            if !current.isEmpty && size + p.count > limit {
                groups.append(current)
                (current, size) = ([], 0)
            }
            current.append(p)
            size += p.count
        }
        if !current.isEmpty { groups.append(current) }
        var bucketOf: [ObjectIdentifier: Int] = [:]
        buckets = groups.enumerated().map { index, group in
            var offsets: [Int] = [], total = 0
            for p in group {
                offsets.append(total)
                total += p.count
                bucketOf[ObjectIdentifier(p)] = index
            }
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(total, 1))
            return Bucket(parameters: group, offsets: offsets, count: total, buffer: buffer)
        }
        self.bucketOf = bucketOf
    }

    deinit { for bucket in buckets { bucket.buffer.deallocate() } }

    func bucket(of parameter: Tensor) -> Int? { bucketOf[ObjectIdentifier(parameter)] }

    /// Copies every gradient of bucket `index`, times `weight`, into its buffer (zeros where a
    /// parameter has no gradient on this replica).
    func pack(_ index: Int, weight: Float) {
        let bucket = buckets[index]
        for (p, offset) in zip(bucket.parameters, bucket.offsets) {
            let destination = bucket.buffer + offset
            guard let grad = p.grad else {
                destination.initialize(repeating: 0, count: p.count)
                continue
            }
            let source = grad.pointer
            for i in 0..<p.count { destination[i] = source[i] * weight }
        }
    }

    /// Copies the summed buffer of bucket `index` back into the gradients (creating any that
    /// this replica did not have: another replica's examples gave it one).
    func unpack(_ index: Int) {
        let bucket = buckets[index]
        for (p, offset) in zip(bucket.parameters, bucket.offsets) {
            if p.grad == nil { p.grad = Tensor(zeros: p.shape) }
            p.grad!.pointer.update(from: bucket.buffer + offset, count: p.count)
        }
    }
}
