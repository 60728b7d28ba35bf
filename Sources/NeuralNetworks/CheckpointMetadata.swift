import Foundation
import TensorEngine

/// The model description in a checkpoint's `__metadata__`, every value checked before a model
/// of that size is built: a checkpoint is input like any other file, and `num_classes: -3` or
/// `100000000000` must be an error naming the file and key, not a crash in weight
/// initialisation or a 51 TB allocation.
enum CheckpointMetadata {
    /// Generous for image classification (ImageNet-21k has 21,841 classes), small enough that
    /// the head of resnet18 stays under 200 MB.
    static let classes = 1...100_000
    static let channels = 1...64
    /// Height and width; small-cnn's first dense layer grows with H·W, 512 keeps it under 600 MB.
    static let side = 1...512

    static func description(of file: SafeTensorsFile, path: String) throws -> ModelDescription {
        func fail(_ key: String, _ reason: String) -> TensorError {
            .checkpoint(path: path, tensor: nil, reason: "metadata '\(key)': \(reason)")
        }
        func field(_ key: String) throws -> String {
            guard let value = file.metadata[key] else {
                throw TensorError.checkpoint(path: path, tensor: nil, reason: "metadata has no '\(key)' (not an rt checkpoint?)")
            }
            return value
        }
        /// A JSON list of finite numbers; `NSNumber`s are read as Double first, so a huge or
        /// fractional value is reported instead of trapping in an Int conversion.
        func numbers(_ key: String) throws -> [Double] {
            let text = try field(key)
            guard let list = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) as? [Any] else {
                throw fail(key, "\(quoted(text)) is not a JSON list of numbers")
            }
            return try list.enumerated().map { index, item in
                guard let number = item as? NSNumber, case let value = number.doubleValue, value.isFinite else {
                    throw fail(key, "item \(index) of \(quoted(text)) is not a finite number")
                }
                return value
            }
        }
        func whole(_ value: Double, _ key: String, in range: ClosedRange<Int>) throws -> Int {
            guard value.rounded() == value, value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
                throw fail(key, "\(value) is not a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return Int(value)
        }

        let classText = try field("num_classes").trimmingCharacters(in: .whitespaces)
        guard let classCount = Int(classText) else { throw fail("num_classes", "\(quoted(classText)) is not a whole number") }
        guard classes.contains(classCount) else {
            throw fail("num_classes", "\(classCount) is outside \(classes.lowerBound)...\(classes.upperBound)")
        }
        let shape = try numbers("input_shape")
        guard shape.count == 3 else { throw fail("input_shape", "expected [C, H, W], got \(shape.count) numbers") }
        let inputShape = [try whole(shape[0], "input_shape", in: channels),
                          try whole(shape[1], "input_shape", in: side), try whole(shape[2], "input_shape", in: side)]
        let mean = try numbers("mean"), std = try numbers("std")
        for (key, values) in [("mean", mean), ("std", std)] where values.count != inputShape[0] {
            throw fail(key, "has \(values.count) values for \(inputShape[0]) channels")
        }
        if let index = std.firstIndex(where: { !($0 > 0) || Float($0) == 0 }) {
            throw fail("std", "item \(index) is \(std[index]); every std must be > 0")
        }
        return ModelDescription(name: try field("model"), numClasses: classCount, inputShape: inputShape,
                                mean: mean.map { Float($0) }, std: std.map { Float($0) })
    }

    private static func quoted(_ text: String) -> String {
        "\"\(text.count > 80 ? String(text.prefix(80)) + "..." : text)\""
    }
}
