import Foundation

/// scikit-learn's digits file (`sklearn/datasets/data/digits.csv.gz`): 1797 rows of 64 pixel
/// values 0…16 (8x8, row-major) and the label 0…9, comma-separated, gzip or plain.
/// Pixels are scaled to bytes by 255/16 so that the loader's /255 gives [0, 1].
///
/// The file has no train/test split. Ours is fixed and stratified by file order:
/// row i goes to test when i % 4 == 3 (a quarter), to train otherwise.
public enum DigitsFormat {
    public static let side = 8
    public static let maximumValue = 16

    public static func load(path: String, split: DatasetSplit, name: String) throws -> ImageDataset {
        let text = try DatasetFile.read(path)
        var labels: [Int] = []
        var rows: [[UInt8]] = []
        var row = 0  // record number: data lines only, counted from 0
        var firstLine = true
        for line in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            let isFirstLine = firstLine
            firstLine = false
            if line.allSatisfy({ $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: " ") }) { continue }
            let fields = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            // A header (pandas writes one) is a first line whose first field is not a number.
            if isFirstLine, let first = fields.first,
               Double(String(decoding: first, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) == nil {
                continue
            }
            defer { row += 1 }
            guard fields.count == side * side + 1 else {
                throw DatasetError.malformedRecord(path: path, record: row, reason: "\(fields.count) values, expected \(side * side) pixels and a label")
            }
            let values = try fields.enumerated().map { (column, field) -> Int in
                let textValue = String(decoding: field, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard let value = Double(textValue), value.isFinite, abs(value) < 1e9, value == value.rounded() else {
                    throw DatasetError.malformedRecord(path: path, record: row, reason: "column \(column) is '\(textValue)', not a whole number")
                }
                return Int(value)
            }
            let label = values[side * side]
            guard (0..<10).contains(label) else {
                throw DatasetError.labelOutOfRange(path: path, example: row, label: label, classCount: 10)
            }
            if let column = values[0..<(side * side)].firstIndex(where: { !(0...maximumValue).contains($0) }) {
                throw DatasetError.malformedRecord(path: path, record: row, reason: "pixel \(column) is \(values[column]), outside 0...\(maximumValue)")
            }
            guard (row % 4 == 3) == (split == .test) else { continue }
            rows.append(values[0..<(side * side)].map { UInt8(($0 * 255 + maximumValue / 2) / maximumValue) })
            labels.append(label)
        }
        guard !rows.isEmpty else {
            throw DatasetError.sizeMismatch(path: path, reason: "no records for the \(split.rawValue) split")
        }
        let storage = PixelStorage(count: rows.count * side * side)
        for (index, pixels) in rows.enumerated() {
            pixels.withUnsafeBufferPointer { (storage.pointer + index * side * side).update(from: $0.baseAddress!, count: side * side) }
        }
        return ImageDataset(name: name, channels: 1, height: side, width: side, pixels: storage, labels: labels,
                            classNames: ImageDataset.numberedClassNames(10))
    }
}
