/// Which part of a dataset: the files' own train and test sets.
public enum DatasetSplit: String, Sendable, CaseIterable {
    case train, test
}

/// A labelled image dataset held in memory: `count` images of `channels` x `height` x `width`
/// bytes (NCHW, 0...255) and one label in `0..<classCount` per image.
///
/// Every format reader produces one of these, and every view (class subset,
/// per-class sample, split, channel conversion, resize) returns a new one, so
/// the loader has exactly one thing to read from.
public struct ImageDataset: Sendable {
    /// Where the data came from, for messages and run records (e.g. "fashion-mnist/train").
    public let name: String
    public let channels: Int
    public let height: Int
    public let width: Int
    public let pixels: PixelStorage
    public let labels: [Int]
    /// One name per class, index = label ("T-shirt/top", "cat", or "3" when the format has none).
    public let classNames: [String]

    public var count: Int { labels.count }
    public var classCount: Int { classNames.count }
    public var imageSize: Int { channels * height * width }
    public var shape: [Int] { [count, channels, height, width] }

    /// Checks that pixels and labels agree with the shape and the classes; readers have
    /// already checked their files, so a failure here is a programming error.
    public init(name: String, channels: Int, height: Int, width: Int, pixels: PixelStorage,
                labels: [Int], classNames: [String]) {
        precondition(channels > 0 && height > 0 && width > 0, "\(name): bad image shape \(channels)x\(height)x\(width)")
        precondition(pixels.count == labels.count * channels * height * width,
                     "\(name): \(pixels.count) pixel bytes for \(labels.count) images of \(channels)x\(height)x\(width)")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classNames.count }, "\(name): label outside 0..<\(classNames.count)")
        self.name = name
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
        self.classNames = classNames
    }

    /// Class names "0", "1", ... for formats that store only numbers.
    public static func numberedClassNames(_ count: Int) -> [String] { (0..<count).map(String.init) }

    /// Number of examples of each class, index = label.
    public var examplesPerClass: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[label] += 1 }
        return counts
    }

    /// The pixels of image `index` (CHW bytes).
    public func image(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        precondition(index >= 0 && index < count, "image \(index) outside 0..<\(count)")
        return UnsafeBufferPointer(start: pixels.pointer + index * imageSize, count: imageSize)
    }

    /// A new dataset holding the examples at `indices`, in that order, with `labels`
    /// (default: theirs) and `classNames` (default: these). The pixels are copied so the
    /// result is contiguous again.
    public func gathering(_ indices: [Int], labels newLabels: [Int]? = nil, classNames newNames: [String]? = nil,
                          name newName: String? = nil) -> ImageDataset {
        let size = imageSize
        let storage = PixelStorage(count: indices.count * size)
        let source = pixels.pointer, destination = storage.pointer
        for (position, index) in indices.enumerated() {
            precondition(index >= 0 && index < count, "index \(index) outside 0..<\(count)")
            (destination + position * size).update(from: source + index * size, count: size)
        }
        return ImageDataset(name: newName ?? name, channels: channels, height: height, width: width, pixels: storage,
                            labels: newLabels ?? indices.map { labels[$0] }, classNames: newNames ?? classNames)
    }
}
