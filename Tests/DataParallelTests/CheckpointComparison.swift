import Foundation
import TensorEngine
import XCTest

/// The tensors of a checkpoint by name, and how far two checkpoints are apart.
struct CheckpointTensors {
    var tensors: [String: [Float]]

    init(path: String) throws {
        var tensors: [String: [Float]] = [:]
        for (name, tensor) in try SafeTensors.read(path).tensors { tensors[name] = tensor.values }
        self.tensors = tensors
    }

    /// ‖a − b‖ / ‖b‖ of each tensor the two share (b is the reference).
    func relativeDifferences(from reference: CheckpointTensors) -> [String: Float] {
        var result: [String: Float] = [:]
        for (name, b) in reference.tensors {
            guard let a = tensors[name] else { continue }
            var difference: Float = 0, norm: Float = 0
            for (u, v) in zip(a, b) { difference += (u - v) * (u - v); norm += v * v }
            result[name] = difference.squareRoot() / max(norm.squareRoot(), .leastNormalMagnitude)
        }
        return result
    }
}

extension XCTestCase {
    /// Every tensor of `run` within relative `tolerance` of `reference` (the equivalence tests'
    /// 1e-4), and the same names; returns the largest relative difference.
    @discardableResult
    func assertSameTensors(_ run: CheckpointTensors, _ reference: CheckpointTensors, tolerance: Float = 1e-4, _ what: String,
                           file: StaticString = #filePath, line: UInt = #line) -> Float {
        XCTAssertEqual(run.tensors.keys.sorted(), reference.tensors.keys.sorted(), "\(what): tensor names", file: file, line: line)
        let differences = run.relativeDifferences(from: reference)
        for (name, difference) in differences.sorted(by: { $0.key < $1.key }) where !(difference <= tolerance) {
            XCTFail("\(what), \(name): relative difference \(difference) > \(tolerance)", file: file, line: line)
        }
        return differences.values.max() ?? 0
    }
}
