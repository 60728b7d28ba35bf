import TensorEngine

extension ImageDataset {
    /// `perClass` examples of every class, chosen by `seed` (a seeded shuffle of each class's
    /// examples, first `perClass` kept), returned in original order. A class with fewer
    /// examples is an error rather than a silently unbalanced task.
    public func sampling(perClass: Int, seed: UInt64) throws -> ImageDataset {
        gathering(try samplingIndices(perClass: perClass, seed: seed, stream: "per-class"), name: "\(name)[\(perClass) per class, seed \(seed)]")
    }

    /// The indices `sampling` keeps, in order; `excluding` removes examples from the pool first
    /// (a held-out split drawn from what a training sample left over).
    func samplingIndices(perClass: Int, seed: UInt64, stream: String, excluding: Set<Int> = [], purpose: String = "per-class sample") throws -> [Int] {
        guard perClass > 0 else {
            throw DatasetError.invalidArgument(what: "\(purpose) of \(name)", reason: "needs at least 1 example per class, not \(perClass)")
        }
        var chosen: [Int] = []
        for (label, all) in indicesByClass().enumerated() {
            let members = excluding.isEmpty ? all : all.filter { !excluding.contains($0) }
            guard members.count >= perClass else {
                throw DatasetError.invalidArgument(what: "\(purpose) of \(name)",
                                                   reason: "class '\(classNames[label])' has \(members.count) examples\(excluding.isEmpty ? "" : " left"), \(perClass) asked")
            }
            var generator = RandomGenerator(seed: seed, stream: "\(stream)/\(label)")
            chosen += ImageDataset.shuffled(members, generator: &generator).prefix(perClass)
        }
        return chosen.sorted()
    }

    /// Splits into training and validation parts, stratified: in every class a seeded
    /// `validationFraction` of the examples (rounded, at least one when the class has two or more)
    /// goes to validation. Both parts keep the original order.
    public func splitValidation(fraction validationFraction: Double, seed: UInt64) throws -> (train: ImageDataset, validation: ImageDataset) {
        guard validationFraction > 0 && validationFraction < 1 else {
            throw DatasetError.invalidArgument(what: "validation split of \(name)", reason: "fraction \(validationFraction) is not in (0, 1)")
        }
        var train: [Int] = [], validation: [Int] = []
        for (label, members) in indicesByClass().enumerated() {
            var generator = RandomGenerator(seed: seed, stream: "validation/\(label)")
            let shuffled = ImageDataset.shuffled(members, generator: &generator)
            var held = Int((Double(members.count) * validationFraction).rounded())
            if members.count >= 2 { held = min(max(held, 1), members.count - 1) }
            validation += shuffled.prefix(held)
            train += shuffled.dropFirst(held)
        }
        return (gathering(train.sorted(), name: "\(name)[train part, seed \(seed)]"),
                gathering(validation.sorted(), name: "\(name)[validation part, seed \(seed)]"))
    }

    /// Indices of each class's examples, in order, index = label.
    public func indicesByClass() -> [[Int]] {
        var groups = [[Int]](repeating: [], count: classCount)
        for (index, label) in labels.enumerated() { groups[label].append(index) }
        return groups
    }

    /// Fisher–Yates with the project's generator (Swift's `shuffle(using:)` does not promise
    /// the same order across standard-library versions).
    public static func shuffled(_ values: [Int], generator: inout RandomGenerator) -> [Int] {
        var result = values
        if result.count < 2 { return result }
        for i in stride(from: result.count - 1, to: 0, by: -1) {
            result.swapAt(i, generator.nextInt(below: i + 1))
        }
        return result
    }
}
