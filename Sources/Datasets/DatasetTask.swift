/// A classification task as a training run needs it: the training and test data of one
/// dataset restricted to some classes (relabelled 0..<k), the training data optionally cut to
/// k examples per class, and the training view's mean and std for the model's Normalize layer.
/// This is what `rt train --dataset D --classes 5-9 --per-class 100 --seed S` resolves to.
public struct DatasetTask: Sendable {
    public let train: ImageDataset
    public let test: ImageDataset
    /// Held-out training-split examples for learning curves (`validationPerClass` per class),
    /// never trained on; nil when none were asked for.
    public var validation: ImageDataset? = nil
    /// Of `train` (the view, after class selection and sampling): what the model normalizes with.
    public let statistics: ChannelStatistics

    public var classCount: Int { train.classCount }
    /// (C, H, W) of every image.
    public var imageShape: [Int] { [train.channels, train.height, train.width] }

    /// Loads `dataset` (a name or a path, see `DatasetCatalog`) and builds the task.
    /// - classes: a class spec (`0-4`, `5-9`, `0,2,7`, names); nil keeps every class.
    /// - perClass: examples per class kept in training, chosen by `seed`; the test split is never cut.
    /// - options: data directory, and channel count / size to convert to (for transfer across datasets).
    /// - validationPerClass: held out of the training split, per class, chosen by `seed`: from the
    ///   examples a per-class sample left over (the training set is the one without it), or,
    ///   with every example kept (`perClass` nil), taken out of the training set.
    public static func load(dataset: String, classes: String? = nil, perClass: Int? = nil, seed: UInt64 = 0,
                            options: DatasetLoadOptions = .init(), validationPerClass: Int? = nil) throws -> DatasetTask {
        var train = try DatasetCatalog.load(dataset, split: .train, options: options)
        var test = try DatasetCatalog.load(dataset, split: .test, options: options)
        if let classes {
            // Parse once against the training split's names, so both splits get the same labels.
            let selected = try ClassSelection.parse(classes, classNames: train.classNames)
            train = try train.selectingClasses(selected)
            test = try test.selectingClasses(selected)
        }
        var validation: ImageDataset?
        if let validationPerClass {
            let kept = try perClass.map { try train.samplingIndices(perClass: $0, seed: seed, stream: "per-class") } ?? []
            let held = try train.samplingIndices(perClass: validationPerClass, seed: seed, stream: "held-out", excluding: Set(kept),
                                                 purpose: "held-out validation split")
            validation = train.gathering(held, name: "\(train.name)[\(validationPerClass) held out per class, seed \(seed)]")
            if perClass == nil {
                let heldSet = Set(held)
                train = train.gathering((0..<train.count).filter { !heldSet.contains($0) }, name: "\(train.name)[without the held-out split]")
            }
        }
        if let perClass { train = try train.sampling(perClass: perClass, seed: seed) }
        var task = DatasetTask(train: train, test: test, statistics: train.channelStatistics())
        task.validation = validation
        return task
    }
}

extension ImageDataset {
    /// The first `limit` examples (all when there are fewer), e.g. for `rt eval --examples N`.
    public func prefix(_ limit: Int) -> ImageDataset {
        limit >= count ? self : gathering(Array(0..<max(0, limit)), name: "\(name)[first \(max(0, limit))]")
    }
}
