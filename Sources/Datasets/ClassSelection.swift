import Foundation

/// Parsing class specs (`--classes 0-4`, `5-9`, `0,2,7`, `cat,dog`, `0-2,7`) and selecting
/// those classes of a dataset, so one dataset yields a source and a target task.
public enum ClassSelection {
    /// The original labels a spec names, ascending and without duplicates. Numbers and
    /// ranges are labels; any other word must be one of `classNames`.
    public static func parse(_ spec: String, classNames: [String]) throws -> [Int] {
        let trimmed = spec.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw DatasetError.invalidClassSpec(spec: spec, reason: "empty") }
        var labels = Set<Int>()
        let available = classNames.count <= 12 ? classNames.joined(separator: ", ")
            : classNames.prefix(12).joined(separator: ", ") + ", … (\(classNames.count) in all)"
        for rawPart in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let part = String(rawPart).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !part.isEmpty else { throw DatasetError.invalidClassSpec(spec: spec, reason: "empty item between commas") }
            if let exact = classNames.firstIndex(of: part), Int(part) == nil {
                labels.insert(exact)
                continue
            }
            let bounds = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
            if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]) {
                guard low <= high else { throw DatasetError.invalidClassSpec(spec: spec, reason: "range \(part) runs backwards") }
                for label in [low, high] where label < 0 || label >= classNames.count {
                    throw DatasetError.unknownClass(spec: spec, className: String(label), available: "0-\(classNames.count - 1)")
                }
                labels.formUnion(low...high)
            } else if let label = Int(part) {
                guard label >= 0 && label < classNames.count else {
                    throw DatasetError.unknownClass(spec: spec, className: part, available: "0-\(classNames.count - 1)")
                }
                labels.insert(label)
            } else {
                throw DatasetError.unknownClass(spec: spec, className: part, available: available)
            }
        }
        return labels.sorted()
    }
}

extension ImageDataset {
    /// Only the examples of `classes` (original labels), relabelled 0..<k in ascending order
    /// of the original label, whatever order `classes` lists them in; class names follow.
    public func selectingClasses(_ classes: [Int]) throws -> ImageDataset {
        let ordered = Array(Set(classes)).sorted()
        guard !ordered.isEmpty else { throw DatasetError.invalidArgument(what: "class selection of \(name)", reason: "no classes given") }
        var newLabel = [Int](repeating: -1, count: classCount)
        for (position, label) in ordered.enumerated() {
            guard label >= 0 && label < classCount else {
                throw DatasetError.unknownClass(spec: ordered.map(String.init).joined(separator: ","), className: String(label),
                                                available: "0-\(classCount - 1)")
            }
            newLabel[label] = position
        }
        let indices = labels.indices.filter { newLabel[labels[$0]] >= 0 }
        let names = ordered.map { classNames[$0] }
        // A selected class without examples would give a task whose classifier has an output
        // that can never be right: refuse it here rather than train on it.
        let present = examplesPerClass
        if let empty = ordered.first(where: { present[$0] == 0 }) {
            throw DatasetError.emptyClass(path: name, className: classNames[empty])
        }
        return gathering(indices, labels: indices.map { newLabel[labels[$0]] }, classNames: names,
                         name: "\(name)[classes \(ClassSelection.describe(ordered))]")
    }

    /// `selectingClasses` for a spec string such as `0-4`.
    public func selectingClasses(spec: String) throws -> ImageDataset {
        try selectingClasses(ClassSelection.parse(spec, classNames: classNames))
    }
}

extension ClassSelection {
    /// Compact text of ascending labels: [0,1,2,3,4,7] -> "0-4,7".
    static func describe(_ ascending: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        while index < ascending.count {
            var end = index
            while end + 1 < ascending.count && ascending[end + 1] == ascending[end] + 1 { end += 1 }
            parts.append(end > index ? "\(ascending[index])-\(ascending[end])" : "\(ascending[index])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}
