import Foundation

/// The binary versions of CIFAR-10 and CIFAR-100 (cs.toronto.edu/~kriz/cifar.html).
///
/// CIFAR-10: `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`, records of
/// 1 label byte + 3072 pixel bytes (1024 red, 1024 green, 1024 blue: already CHW).
/// CIFAR-100: `train.bin` and `test.bin`, records of a coarse and a fine label byte + 3072
/// pixel bytes; the fine label (100 classes) is the one used.
public enum CIFARFormat {
    public enum Variant: Sendable {
        case cifar10, cifar100

        var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        var classCount: Int { self == .cifar10 ? 10 : 100 }
        var recordSize: Int { labelBytes + 3 * 32 * 32 }

        func files(for split: DatasetSplit) -> [String] {
            switch (self, split) {
            case (.cifar10, .train): return (1...5).map { "data_batch_\($0).bin" }
            case (.cifar10, .test): return ["test_batch.bin"]
            case (.cifar100, .train): return ["train.bin"]
            case (.cifar100, .test): return ["test.bin"]
            }
        }

        /// The class-name file that ships with the binary version, one name per line.
        var classNamesFile: String { self == .cifar10 ? "batches.meta.txt" : "fine_label_names.txt" }
    }

    /// The variant whose files are in `directory`, or nil when neither is.
    public static func detect(in directory: String) -> Variant? {
        if DatasetFile.exists(DatasetFile.join(directory, "test_batch.bin")) || DatasetFile.exists(DatasetFile.join(directory, "data_batch_1.bin")) {
            return .cifar10
        }
        if DatasetFile.exists(DatasetFile.join(directory, "train.bin")) || DatasetFile.exists(DatasetFile.join(directory, "test.bin")) {
            return .cifar100
        }
        return nil
    }

    /// Loads `split` of `variant` from `directory`.
    public static func load(directory: String, variant: Variant, split: DatasetSplit, name: String) throws -> ImageDataset {
        let paths = variant.files(for: split).map { DatasetFile.join(directory, $0) }
        let files = try paths.map { path in (path, try DatasetFile.read(path)) }
        for (path, bytes) in files where bytes.count % variant.recordSize != 0 || bytes.isEmpty {
            throw DatasetError.sizeMismatch(path: path, reason: "\(bytes.count) bytes is not a whole number of \(variant.recordSize)-byte records")
        }
        let total = files.reduce(0) { $0 + $1.1.count / variant.recordSize }
        let imageSize = 3 * 32 * 32
        let storage = PixelStorage(count: total * imageSize)
        var labels: [Int] = []
        labels.reserveCapacity(total)
        for (path, bytes) in files {
            let records = bytes.count / variant.recordSize
            try bytes.withUnsafeBufferPointer { source in
                for record in 0..<records {
                    let start = source.baseAddress! + record * variant.recordSize
                    let label = Int(start[variant.labelBytes - 1])  // CIFAR-100: the fine label is the second byte
                    guard label < variant.classCount else {
                        throw DatasetError.labelOutOfRange(path: path, example: record, label: label, classCount: variant.classCount)
                    }
                    (storage.pointer + labels.count * imageSize).update(from: start + variant.labelBytes, count: imageSize)
                    labels.append(label)
                }
            }
        }
        return ImageDataset(name: name, channels: 3, height: 32, width: 32, pixels: storage, labels: labels,
                            classNames: try classNames(directory: directory, variant: variant))
    }

    /// Names from the meta file when present and well formed, else "0", "1", ….
    static func classNames(directory: String, variant: Variant) throws -> [String] {
        let path = DatasetFile.join(directory, variant.classNamesFile)
        guard DatasetFile.exists(path) else { return ImageDataset.numberedClassNames(variant.classCount) }
        let text = String(decoding: try DatasetFile.readRaw(path), as: UTF8.self)
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        guard names.count == variant.classCount else {
            throw DatasetError.malformedRecord(path: path, record: 0, reason: "\(names.count) class names, expected \(variant.classCount)")
        }
        return names
    }
}
