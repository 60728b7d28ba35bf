import TensorEngine

/// Serves a dataset as Float32 NCHW batches: a seeded shuffle per epoch, augmentation,
/// data-parallel shards and background prefetch.
///
/// Sharding splits every *global* batch of `batchSize` examples: rank r of w takes positions
/// `g*r/w ..< g*(r+1)/w` of a global batch of g examples. So w ranks together see exactly the
/// batches one rank with the same `batchSize` sees, every rank has the same number of batches
/// per epoch, and the shards cover each example once per epoch (with `dropLast`, the last
/// incomplete global batch is left out on every rank alike). A rank's slice of a last, tiny global
/// batch can be empty (fewer examples than ranks); its images tensor then has shape [0, C, H, W].
public struct DataLoader: Sendable {
    public let dataset: ImageDataset
    /// The global batch size (summed over ranks).
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let dropLast: Bool
    public let augmentation: Augmentation
    /// Batches built ahead on a background thread; 0 builds each batch when asked.
    public let prefetchDepth: Int
    public let rank: Int
    public let worldSize: Int

    public init(dataset: ImageDataset, batchSize: Int, shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false,
                augmentation: Augmentation = .none, prefetchDepth: Int = 2) throws {
        try self.init(dataset: dataset, batchSize: batchSize, shuffle: shuffle, seed: seed, dropLast: dropLast,
                      augmentation: augmentation, prefetchDepth: prefetchDepth, rank: 0, worldSize: 1)
    }

    private init(dataset: ImageDataset, batchSize: Int, shuffle: Bool, seed: UInt64, dropLast: Bool,
                 augmentation: Augmentation, prefetchDepth: Int, rank: Int, worldSize: Int) throws {
        guard batchSize > 0 else { throw DatasetError.invalidArgument(what: "loader for \(dataset.name)", reason: "batch size \(batchSize) is not positive") }
        guard augmentation.cropPadding >= 0 else {
            throw DatasetError.invalidArgument(what: "loader for \(dataset.name)", reason: "crop padding \(augmentation.cropPadding) is negative")
        }
        guard prefetchDepth >= 0 else { throw DatasetError.invalidArgument(what: "loader for \(dataset.name)", reason: "prefetch depth \(prefetchDepth) is negative") }
        guard worldSize >= 1, rank >= 0, rank < worldSize else {
            throw DatasetError.invalidArgument(what: "shard of \(dataset.name)", reason: "rank \(rank) is not in 0..<\(worldSize)")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
        self.augmentation = augmentation
        self.prefetchDepth = prefetchDepth
        self.rank = rank
        self.worldSize = worldSize
    }

    /// This loader's shard for `rank` of `worldSize` data-parallel processes (same seed, same
    /// global batch size: see the type's comment).
    public func shard(rank: Int, worldSize: Int) throws -> DataLoader {
        guard self.worldSize == 1 else {
            throw DatasetError.invalidArgument(what: "shard of \(dataset.name)", reason: "loader is already shard \(self.rank) of \(self.worldSize)")
        }
        return try DataLoader(dataset: dataset, batchSize: batchSize, shuffle: shuffle, seed: seed, dropLast: dropLast,
                              augmentation: augmentation, prefetchDepth: prefetchDepth, rank: rank, worldSize: worldSize)
    }

    /// Batches per epoch (the same on every rank).
    public var batchesPerEpoch: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// The epoch's global order of dataset indices: a seeded permutation drawn from a stream
    /// of its own per epoch, or 0..<count without shuffle.
    public func order(epoch: Int) -> [Int] {
        let identity = Array(0..<dataset.count)
        guard shuffle else { return identity }
        var generator = RandomGenerator(seed: seed, stream: "loader/shuffle/epoch \(epoch)")
        return ImageDataset.shuffled(identity, generator: &generator)
    }

    /// The epoch's batches for this rank, in order. Iterating builds them on a background
    /// thread `prefetchDepth` ahead (one producer, so never out of order); abandoning the
    /// iteration stops the thread.
    public func batches(epoch: Int) -> EpochBatches {
        EpochBatches(plan: EpochPlan(loader: self, epoch: epoch))
    }

    /// Batch `index` of `epoch` for this rank, built now (for random access and tests;
    /// `batches(epoch:)` reuses one shuffle for the whole epoch).
    public func batch(epoch: Int, index: Int) -> Batch {
        EpochPlan(loader: self, epoch: epoch).makeBatch(index)
    }
}

/// What one epoch of one rank reads: the shuffled order, the slicing and the augmentation seed.
struct EpochPlan: Sendable {
    let loader: DataLoader
    let epoch: Int
    let order: [Int]
    let augmentationSeed: UInt64

    init(loader: DataLoader, epoch: Int) {
        self.loader = loader
        self.epoch = epoch
        order = loader.order(epoch: epoch)
        var generator = RandomGenerator(seed: loader.seed, stream: "loader/augment/epoch \(epoch)")
        augmentationSeed = generator.next()
    }

    /// Positions (in `order`) of this rank's slice of global batch `index`, and the global batch size.
    func slice(_ index: Int) -> (positions: Range<Int>, globalCount: Int) {
        let start = index * loader.batchSize
        let global = min(loader.batchSize, loader.dataset.count - start)
        let (rank, world) = (loader.rank, loader.worldSize)
        return (start + global * rank / world ..< start + global * (rank + 1) / world, global)
    }

    func makeBatch(_ index: Int) -> Batch {
        precondition(index >= 0 && index < loader.batchesPerEpoch, "batch \(index) outside 0..<\(loader.batchesPerEpoch)")
        let (positions, globalCount) = slice(index)
        let dataset = loader.dataset, augmentation = loader.augmentation
        let indices = positions.map { order[$0] }
        let images = Tensor(shape: [indices.count, dataset.channels, dataset.height, dataset.width]) { buffer in
            BatchBuilder.byteToUnit.withUnsafeBufferPointer { table in
                for (slot, position) in positions.enumerated() {
                    var choice: Augmentation.Choice?
                    if !augmentation.isIdentity {
                        // One generator per example, keyed by its global position (see `Augmentation`).
                        var generator = RandomGenerator(seed: augmentationSeed &+ UInt64(position) &* 0x9E37_79B9_7F4A_7C15)
                        choice = augmentation.choice(using: &generator)
                    }
                    BatchBuilder.write(dataset, index: order[position], choice: choice, padding: augmentation.cropPadding,
                                       into: buffer.baseAddress! + slot * dataset.imageSize, table: table.baseAddress!)
                }
            }
        }
        return Batch(images: images, labels: indices.map { dataset.labels[$0] }, indices: indices, index: index,
                     globalCount: globalCount)
    }
}

/// The batches of one epoch, as a sequence.
public struct EpochBatches: Sequence, Sendable {
    let plan: EpochPlan

    public var count: Int { plan.loader.batchesPerEpoch }

    public func makeIterator() -> Iterator {
        Iterator(plan: plan)
    }

    public struct Iterator: IteratorProtocol {
        private let plan: EpochPlan
        private var position = 0
        private let prefetcher: BatchPrefetcher?

        init(plan: EpochPlan) {
            self.plan = plan
            let count = plan.loader.batchesPerEpoch
            prefetcher = plan.loader.prefetchDepth > 0 && count > 0
                ? BatchPrefetcher(count: count, depth: plan.loader.prefetchDepth) { plan.makeBatch($0) }
                : nil
        }

        public mutating func next() -> Batch? {
            if let prefetcher { return prefetcher.next() }
            guard position < plan.loader.batchesPerEpoch else { return nil }
            defer { position += 1 }
            return plan.makeBatch(position)
        }
    }
}
