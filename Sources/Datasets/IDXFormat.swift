/// The IDX format of MNIST, Fashion-MNIST, KMNIST and EMNIST (raw or gzip):
/// magic `00 00 08 <ndims>`, then `ndims` big-endian UInt32 sizes, then the unsigned bytes.
/// Images are idx3 (count, rows, columns), labels idx1 (count).
public enum IDXFormat {
    /// The paths of one split's image and label files.
    public struct SplitFiles: Equatable, Sendable {
        public let images: String
        public let labels: String
        /// The file-name prefix before `train-`/`t10k-` ("" for MNIST, "emnist-balanced-" for EMNIST).
        public let family: String
    }

    /// Loads one split from its image and label files. `classNames` fixes the class count
    /// (labels must be below it); without it the count is the largest label + 1.
    /// `transposed` flips rows and columns, which EMNIST needs (its images are stored column-major).
    public static func load(images imagesPath: String, labels labelsPath: String, classNames: [String]? = nil,
                            transposed: Bool = false, name: String) throws -> ImageDataset {
        let imageBytes = try DatasetFile.read(imagesPath)
        let imageDims = try parseHeader(imageBytes, path: imagesPath, expectedDimensions: 3)
        let labelBytes = try DatasetFile.read(labelsPath)
        let labelDims = try parseHeader(labelBytes, path: labelsPath, expectedDimensions: 1)
        let (count, rows, columns) = (imageDims[0], imageDims[1], imageDims[2])
        guard labelDims[0] == count else {
            throw DatasetError.countMismatch(imagesPath: imagesPath, images: count, labelsPath: labelsPath, labels: labelDims[0])
        }
        guard rows > 0, columns > 0 else {
            throw DatasetError.sizeMismatch(path: imagesPath, reason: "images of \(rows)x\(columns) pixels")
        }

        let labelOffset = 4 + 4 * 1
        let labels = (0..<count).map { Int(labelBytes[labelOffset + $0]) }
        let names = classNames ?? ImageDataset.numberedClassNames((labels.max() ?? -1) + 1)
        if let bad = labels.firstIndex(where: { $0 >= names.count }) {
            throw DatasetError.labelOutOfRange(path: labelsPath, example: bad, label: labels[bad], classCount: names.count)
        }

        let imageOffset = 4 + 4 * 3
        let (height, width) = transposed ? (columns, rows) : (rows, columns)
        let storage = PixelStorage(count: count * rows * columns)
        imageBytes.withUnsafeBufferPointer { source in
            let from = source.baseAddress! + imageOffset
            if transposed {
                let to = storage.pointer, size = rows * columns
                for n in 0..<count {
                    let image = from + n * size, out = to + n * size
                    for r in 0..<rows { for c in 0..<columns { out[c * rows + r] = image[r * columns + c] } }
                }
            } else {
                storage.pointer.update(from: from, count: count * rows * columns)
            }
        }
        return ImageDataset(name: name, channels: 1, height: height, width: width, pixels: storage,
                            labels: labels, classNames: names)
    }

    /// Validates the magic and the sizes against the byte count and returns the sizes.
    static func parseHeader(_ bytes: [UInt8], path: String, expectedDimensions: Int) throws -> [Int] {
        guard bytes.count >= 4 else {
            throw DatasetError.sizeMismatch(path: path, reason: "\(bytes.count) bytes, shorter than the 4-byte magic")
        }
        let expectedMagic = [UInt8(0), 0, 0x08, UInt8(expectedDimensions)]
        guard Array(bytes[0..<4]) == expectedMagic else {
            throw DatasetError.wrongMagic(path: path, expected: hex(expectedMagic), found: hex(Array(bytes[0..<4])))
        }
        let headerSize = 4 + 4 * expectedDimensions
        guard bytes.count >= headerSize else {
            throw DatasetError.sizeMismatch(path: path, reason: "\(bytes.count) bytes, shorter than the \(headerSize)-byte header")
        }
        let dims = (0..<expectedDimensions).map { d -> Int in
            let o = 4 + 4 * d
            return Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
        }
        // A corrupt header can claim up to (2^32)^3 bytes: multiply with overflow checks.
        var payload = 1, overflow = false
        for d in dims where !overflow { (payload, overflow) = payload.multipliedReportingOverflow(by: d) }
        guard !overflow, bytes.count == headerSize + payload else {
            let claimed = overflow ? "more than \(Int.max)" : "\(payload)"
            throw DatasetError.sizeMismatch(path: path, reason: "header says \(dims.map(String.init).joined(separator: "x")) = \(claimed) bytes of data, file has \(bytes.count - headerSize)")
        }
        return dims
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
    }

    /// Finds the image and label files of `split` in `directory`. Accepts the usual names
    /// (`train-images-idx3-ubyte[.gz]`, `t10k-…` or `test-…`, `.idx3-ubyte` with a dot) with any
    /// prefix (`emnist-balanced-train-…`). When several prefixes are present `family` picks one;
    /// without it that is an error listing them. Returns nil when the directory holds no IDX images.
    public static func findSplit(in directory: String, split: DatasetSplit, family: String? = nil) throws -> SplitFiles? {
        let entries = try DatasetFile.entries(of: directory)
        var candidates: [SplitFiles] = []
        var families = Set<String>()
        for entry in entries {
            let stem = entry.hasSuffix(".gz") ? String(entry.dropLast(3)) : entry
            guard let imagesRange = stem.range(of: "images-idx3-ubyte") ?? stem.range(of: "images.idx3-ubyte"),
                  imagesRange.upperBound == stem.endIndex else { continue }
            let before = String(stem[..<imagesRange.lowerBound])  // e.g. "emnist-balanced-train-"
            let splitWords = split == .train ? ["train-"] : ["t10k-", "test-"]
            let allSplitWords = ["train-", "t10k-", "test-"]
            guard let word = allSplitWords.first(where: { before.hasSuffix($0) }) else { continue }
            let prefix = String(before.dropLast(word.count))
            families.insert(prefix)
            guard splitWords.contains(word), family == nil || family == prefix else { continue }
            let labelStem = stem.replacingOccurrences(of: "images", with: "labels").replacingOccurrences(of: "idx3", with: "idx1")
            let labels = [labelStem, labelStem + ".gz"].first(where: { entries.contains($0) }) ?? labelStem + (entry.hasSuffix(".gz") ? ".gz" : "")
            candidates.append(SplitFiles(images: DatasetFile.join(directory, entry), labels: DatasetFile.join(directory, labels), family: prefix))
        }
        if let family, !families.contains(family) {
            return nil
        }
        if family == nil, families.count > 1 {
            let listed = families.sorted().map { $0.isEmpty ? "(no prefix)" : DatasetFile.join(directory, String($0.dropLast())) }
            throw DatasetError.unrecognizedDataset(path: directory, reason: "holds several IDX datasets; pass one of: \(listed.joined(separator: ", "))")
        }
        if candidates.isEmpty {
            if families.isEmpty { return nil }
            throw DatasetError.unrecognizedDataset(path: directory, reason: "has IDX files but none for the \(split.rawValue) split")
        }
        // A raw and a gzip copy of the same file: prefer the raw one (no inflating).
        return candidates.sorted { $0.images.count < $1.images.count }.first
    }

    /// Loads `split` from a directory of IDX files (see `findSplit`); EMNIST files are transposed.
    public static func load(directory: String, split: DatasetSplit, family: String? = nil,
                            classNames: [String]? = nil, name: String) throws -> ImageDataset? {
        guard let files = try findSplit(in: directory, split: split, family: family) else { return nil }
        guard DatasetFile.exists(files.labels) else {
            throw DatasetError.unreadableFile(path: files.labels, reason: "label file for \(files.images) is missing")
        }
        return try load(images: files.images, labels: files.labels, classNames: classNames,
                        transposed: files.family.hasPrefix("emnist"), name: name)
    }
}
