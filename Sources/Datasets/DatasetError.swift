/// Typed errors of the Datasets module. Each names the file (or dataset, or class
/// spec) and says what is wrong with it, so a sweep's log tells the user what to fix.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    /// A file that should exist does not, or cannot be read.
    case unreadableFile(path: String, reason: String)
    /// The file starts with the wrong magic number for its format.
    case wrongMagic(path: String, expected: String, found: String)
    /// Header counts and the file's size (or row count) disagree: a truncated or padded file.
    case sizeMismatch(path: String, reason: String)
    /// Two files of one split (images and labels) hold different numbers of examples.
    case countMismatch(imagesPath: String, images: Int, labelsPath: String, labels: Int)
    /// A label outside 0..<classCount.
    case labelOutOfRange(path: String, example: Int, label: Int, classCount: Int)
    /// A pixel value outside the format's range (digits: 0...16), or a row that does not parse.
    case malformedRecord(path: String, record: Int, reason: String)
    /// A compressed file that zlib cannot inflate.
    case corruptCompressedFile(path: String, reason: String)
    /// An image file that libpng or libjpeg cannot decode.
    case undecodableImage(path: String, reason: String)
    /// An ImageFolder class directory without any image.
    case emptyClass(path: String, className: String)
    /// A class spec (`0-4`, `0,2,7`, `cat,dog`) that does not parse.
    case invalidClassSpec(spec: String, reason: String)
    /// A class spec naming a class the dataset does not have.
    case unknownClass(spec: String, className: String, available: String)
    /// A named dataset that is not installed, with where it was looked for and how to get it.
    case missingDataset(name: String, searched: [String], remedy: String)
    /// A path whose layout matches none of the supported formats, or an unknown name.
    case unrecognizedDataset(path: String, reason: String)
    /// A view or loader asked for something the dataset cannot give (too few examples, bad rank...).
    case invalidArgument(what: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "\(path): cannot read: \(reason)"
        case let .wrongMagic(path, expected, found):
            return "\(path): wrong magic number: expected \(expected), found \(found) (not this format, or corrupt)"
        case let .sizeMismatch(path, reason):
            return "\(path): size does not match its header: \(reason) (truncated or corrupt file)"
        case let .countMismatch(imagesPath, images, labelsPath, labels):
            return "\(imagesPath) holds \(images) images but \(labelsPath) holds \(labels) labels"
        case let .labelOutOfRange(path, example, label, classCount):
            return "\(path): example \(example) has label \(label), outside 0..<\(classCount)"
        case let .malformedRecord(path, record, reason):
            return "\(path): record \(record): \(reason)"
        case let .corruptCompressedFile(path, reason):
            return "\(path): corrupt gzip data: \(reason)"
        case let .undecodableImage(path, reason):
            return "\(path): cannot decode image: \(reason)"
        case let .emptyClass(path, className):
            return "\(path): class '\(className)' has no images (.png, .jpg, .jpeg)"
        case let .invalidClassSpec(spec, reason):
            return "class spec '\(spec)': \(reason)"
        case let .unknownClass(spec, className, available):
            return "class spec '\(spec)': no class '\(className)' in this dataset (classes: \(available))"
        case let .missingDataset(name, searched, remedy):
            return "dataset '\(name)' not found (looked in \(searched.joined(separator: ", "))); \(remedy)"
        case let .unrecognizedDataset(path, reason):
            return "\(path): \(reason)"
        case let .invalidArgument(what, reason):
            return "\(what): \(reason)"
        }
    }
}
