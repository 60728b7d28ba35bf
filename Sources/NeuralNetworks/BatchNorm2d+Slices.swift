import TensorEngine

/// Batch-norm over slices of a batch ("ghost batches"), so that one process computes what k
/// data-parallel replicas compute. Replicas without synchronised batch-norm (as PyTorch DDP
/// without SyncBatchNorm, and `rt`'s ring) normalize each replica's slice of the global batch
/// with that slice's statistics; one process with `statisticsSlices = k` normalizes the same
/// slices the same way, so its gradients, and so its parameters, are the replicas' to float
/// rounding (`rt train --bn-slices k` against `--replicas k`).
extension BatchNorm2d {
    /// Rows of slice `index` of `slices` in a batch of `count`: the split `DataLoader.shard` makes
    /// of a global batch among ranks (the later ranks take the remainder: 10, 11, 11 of 32).
    public static func sliceRows(_ index: Int, of slices: Int, count: Int) -> Range<Int> {
        count * index / slices ..< count * (index + 1) / slices
    }

    /// `normalize` applied to each slice (with its rows; nil rows: one slice, the whole batch),
    /// the results concatenated in order. Each slice starts from the same running statistics,
    /// and they end as the mean of where each slice moved them: the update is linear in a
    /// slice's statistics, so this is what the replicas' own running statistics, averaged at
    /// the end of an epoch, come to. An empty slice (a tiny last batch) leaves its share unmoved,
    /// as a replica with no examples does.
    func normalizingSlices(_ x: Tensor, _ normalize: (Tensor, Range<Int>?) throws -> Tensor) throws -> Tensor {
        let slices = statisticsSlices, count = x.shape[0]
        guard slices > 1 else { return try normalize(x, nil) }
        let channels = runningMean.count
        let startMean = Array(UnsafeBufferPointer(start: runningMean.pointer, count: channels))
        let startVar = Array(UnsafeBufferPointer(start: runningVar.pointer, count: channels))
        var meanSum = [Float](repeating: 0, count: channels), varSum = meanSum
        var parts: [Tensor] = []
        for index in 0..<slices {
            let rows = Self.sliceRows(index, of: slices, count: count)
            for c in 0..<channels { (runningMean.pointer[c], runningVar.pointer[c]) = (startMean[c], startVar[c]) }
            if !rows.isEmpty { parts.append(try normalize(x.slice(rows: rows), rows)) }
            for c in 0..<channels { meanSum[c] += runningMean.pointer[c]; varSum[c] += runningVar.pointer[c] }
        }
        for c in 0..<channels { (runningMean.pointer[c], runningVar.pointer[c]) = (meanSum[c] / Float(slices), varSum[c] / Float(slices)) }
        return parts.count == 1 ? parts[0] : try Tensor.concat(parts, axis: 0)
    }
}

extension Module {
    /// Sets `statisticsSlices` on every batch-norm below this module.
    public func normalizeBatchesInSlices(_ slices: Int) {
        for case let norm as BatchNorm2d in allModules { norm.statisticsSlices = slices }
    }
}
