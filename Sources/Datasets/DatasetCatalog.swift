import Foundation

/// How a dataset should come back from `DatasetCatalog.load`.
public struct DatasetLoadOptions: Sendable {
    /// Where named datasets live; nil means `$RT_DATA_DIR`, else `DatasetCatalog.fallbackDataDirectory`.
    public var dataDirectory: String?
    /// Channels of the returned images (1 or 3); nil keeps the format's own (ImageFolder: 3).
    public var channels: Int?
    /// Size of the returned images (bilinear resize); nil keeps the format's own
    /// (ImageFolder: the first image's size).
    public var height: Int?
    public var width: Int?

    public init(dataDirectory: String? = nil, channels: Int? = nil, height: Int? = nil, width: Int? = nil) {
        self.dataDirectory = dataDirectory
        self.channels = channels
        self.height = height
        self.width = width
    }
}

/// Named datasets and paths: `load("fashion-mnist", split: .train)`, `load("/data/my-folder", split: .test)`.
///
/// | name | where | format |
/// | --- | --- | --- |
/// | fashion-mnist | `$RT_DATA_DIR/fashion-mnist`, then `/usr/share/datasets/fashion-mnist` | IDX |
/// | mnist | `$RT_DATA_DIR/mnist` | IDX |
/// | cifar10 | `$RT_DATA_DIR/cifar-10-batches-bin` (or `cifar10/`) | CIFAR binary |
/// | cifar100 | `$RT_DATA_DIR/cifar-100-binary` (or `cifar100/`) | CIFAR binary |
/// | digits | `$RT_DATA_DIR/digits.csv.gz` | scikit-learn CSV |
/// | synthetic[:k=v,…] | generated | procedural |
///
/// A path is recognised by its contents: a `.csv[.gz]` file is the digits format; a directory
/// with CIFAR batch files, IDX files (also `dir/<prefix>` for one family such as
/// `emnist-balanced`), or class folders (ImageFolder).
public enum DatasetCatalog {
    public static let names = ["fashion-mnist", "mnist", "cifar10", "cifar100", "digits", "synthetic"]

    /// Used when neither the options nor `$RT_DATA_DIR` name a data directory
    /// (scripts/fetch_datasets.sh uses the same default).
    public static var fallbackDataDirectory: String {
        DatasetFile.join(FileManager.default.homeDirectoryForCurrentUser.path, ".local/share/rt/datasets")
    }

    public static let debianFashionMNIST = "/usr/share/datasets/fashion-mnist"

    public static let fashionMNISTClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// The data directory for `options`: explicit, else `$RT_DATA_DIR`, else the fallback.
    public static func dataDirectory(_ options: DatasetLoadOptions) -> String {
        if let directory = options.dataDirectory { return directory }
        if let directory = ProcessInfo.processInfo.environment["RT_DATA_DIR"], !directory.isEmpty { return directory }
        return fallbackDataDirectory
    }

    /// Loads `split` of a named dataset or of the dataset at a path, then applies the
    /// options' channel count and size.
    public static func load(_ nameOrPath: String, split: DatasetSplit, options: DatasetLoadOptions = .init()) throws -> ImageDataset {
        let dataset = try loadUnconverted(nameOrPath, split: split, options: options)
        var result = dataset
        if let channels = options.channels { result = try result.converted(toChannels: channels) }
        if options.height != nil || options.width != nil {
            result = try result.resized(height: options.height ?? result.height, width: options.width ?? result.width)
        }
        return result
    }

    static func loadUnconverted(_ nameOrPath: String, split: DatasetSplit, options: DatasetLoadOptions) throws -> ImageDataset {
        let data = dataDirectory(options)
        let label = "\(nameOrPath)/\(split.rawValue)"
        switch nameOrPath {
        case "fashion-mnist":
            let searched = [DatasetFile.join(data, "fashion-mnist"), debianFashionMNIST]
            for directory in searched where DatasetFile.isDirectory(directory) {
                if let dataset = try IDXFormat.load(directory: directory, split: split, classNames: fashionMNISTClassNames, name: label) {
                    return dataset
                }
            }
            throw DatasetError.missingDataset(name: nameOrPath, searched: searched,
                remedy: "install it with `sudo apt-get install dataset-fashion-mnist` (or scripts/setup.sh), or run `scripts/fetch_datasets.sh fashion-mnist`")
        case "mnist":
            let directory = DatasetFile.join(data, "mnist")
            if DatasetFile.isDirectory(directory),
               let dataset = try IDXFormat.load(directory: directory, split: split, classNames: ImageDataset.numberedClassNames(10), name: label) {
                return dataset
            }
            throw DatasetError.missingDataset(name: nameOrPath, searched: [directory],
                remedy: "download it with `scripts/fetch_datasets.sh mnist` (RT_DATA_DIR=\(data))")
        case "cifar10", "cifar100":
            let variant: CIFARFormat.Variant = nameOrPath == "cifar10" ? .cifar10 : .cifar100
            let official = nameOrPath == "cifar10" ? "cifar-10-batches-bin" : "cifar-100-binary"
            let searched = [DatasetFile.join(data, official), DatasetFile.join(data, nameOrPath), DatasetFile.join(DatasetFile.join(data, nameOrPath), official)]
            for directory in searched where CIFARFormat.detect(in: directory) == variant {
                return try CIFARFormat.load(directory: directory, variant: variant, split: split, name: label)
            }
            throw DatasetError.missingDataset(name: nameOrPath, searched: searched,
                remedy: "download it with `scripts/fetch_datasets.sh \(nameOrPath)` (RT_DATA_DIR=\(data))")
        case "digits":
            let searched = [DatasetFile.join(data, "digits.csv.gz"), DatasetFile.join(data, "digits.csv")]
            for path in searched where DatasetFile.exists(path) {
                return try DigitsFormat.load(path: path, split: split, name: label)
            }
            throw DatasetError.missingDataset(name: nameOrPath, searched: searched,
                remedy: "download it with `scripts/fetch_datasets.sh digits` (RT_DATA_DIR=\(data))")
        case "synthetic":
            return try SyntheticDataset().make(split)
        default:
            if nameOrPath.hasPrefix("synthetic:") {
                return try SyntheticDataset(parameters: String(nameOrPath.dropFirst("synthetic:".count))).make(split)
            }
            return try load(path: nameOrPath, split: split, options: options)
        }
    }

    /// Loads `split` of the dataset at `path`, recognising its format by its contents.
    static func load(path: String, split: DatasetSplit, options: DatasetLoadOptions) throws -> ImageDataset {
        let label = "\(path)/\(split.rawValue)"
        if DatasetFile.isDirectory(path) {
            if let variant = CIFARFormat.detect(in: path) {
                return try CIFARFormat.load(directory: path, variant: variant, split: split, name: label)
            }
            for official in ["cifar-10-batches-bin", "cifar-100-binary"] {
                let inner = DatasetFile.join(path, official)
                if let variant = CIFARFormat.detect(in: inner) {
                    return try CIFARFormat.load(directory: inner, variant: variant, split: split, name: label)
                }
            }
            if let dataset = try IDXFormat.load(directory: path, split: split, name: label) { return dataset }
            if ImageFolderFormat.looks(like: path) {
                return try ImageFolderFormat.load(root: path, split: split, channels: options.channels ?? 3,
                                                  height: options.height, width: options.width, name: label)
            }
            throw DatasetError.unrecognizedDataset(path: path, reason: "directory holds no CIFAR batches, IDX files or class folders")
        }
        if DatasetFile.exists(path) {
            if path.hasSuffix(".csv.gz") || path.hasSuffix(".csv") { return try DigitsFormat.load(path: path, split: split, name: label) }
            throw DatasetError.unrecognizedDataset(path: path, reason: "a file that is not a digits .csv[.gz]; pass the directory of a dataset")
        }
        // `dir/emnist-balanced` names one IDX family among several in `dir`.
        let url = URL(fileURLWithPath: path)
        let parent = url.deletingLastPathComponent().path
        if DatasetFile.isDirectory(parent),
           let dataset = try IDXFormat.load(directory: parent, split: split, family: url.lastPathComponent + "-", name: label) {
            return dataset
        }
        throw DatasetError.unrecognizedDataset(path: path, reason: "no such file or directory, and not a dataset name (\(names.joined(separator: ", ")))")
    }
}
