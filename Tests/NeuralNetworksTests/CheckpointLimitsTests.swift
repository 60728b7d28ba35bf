import Foundation
import XCTest
import TensorEngine
@testable import NeuralNetworks

/// Hostile and broken checkpoints (issue 13): every impossible value is an error naming the
/// file and the key or tensor, found before a model of that size is built.
final class CheckpointLimitsTests: XCTestCase {
    private let metadata = ["model": "small-cnn", "num_classes": "10", "input_shape": "[1,8,8]", "mean": "[0.5]", "std": "[0.25]"]

    private func assertRefused(_ changes: [String: String], mentions: String, file: StaticString = #filePath, line: UInt = #line) {
        let stored = SafeTensorsFile(tensors: [], metadata: metadata.merging(changes) { $1 })
        XCTAssertThrowsError(try Checkpoint.description(of: stored, path: "bad.safetensors"), file: file, line: line) { error in
            XCTAssertTrue("\(error)".hasPrefix("checkpoint bad.safetensors: metadata '"), "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(mentions), "\(error)", file: file, line: line)
        }
    }

    func testImpossibleClassCountsAreErrorsNamingTheKey() {
        assertRefused(["num_classes": "-3"], mentions: "'num_classes': -3 is outside 1...100000")
        assertRefused(["num_classes": "0"], mentions: "'num_classes': 0 is outside")
        assertRefused(["num_classes": "100000000000"], mentions: "'num_classes': 100000000000 is outside")
        assertRefused(["num_classes": "99999999999999999999999"], mentions: "'num_classes': \"99999999999999999999999\" is not a whole number")
        assertRefused(["num_classes": "ten"], mentions: "'num_classes': \"ten\" is not a whole number")
    }

    func testImpossibleInputShapesAreErrorsNamingTheKey() {
        assertRefused(["input_shape": "[1,-28,28]"], mentions: "'input_shape': -28.0 is not a whole number in 1...512")
        assertRefused(["input_shape": "[1,100000000000,28]"], mentions: "'input_shape': 100000000000.0 is not a whole number")
        assertRefused(["input_shape": "[1,28.5,28]"], mentions: "'input_shape': 28.5 is not a whole number")
        assertRefused(["input_shape": "[1e400,28,28]"], mentions: "\"[1e400,28,28]\"")
        assertRefused(["input_shape": "[1,28"], mentions: "'input_shape': \"[1,28\" is not a JSON list of numbers")
        assertRefused(["input_shape": "[1,28,\"x\"]"], mentions: "item 2 of")
        assertRefused(["input_shape": "[28,28]"], mentions: "expected [C, H, W], got 2 numbers")
        assertRefused(["input_shape": "[100,28,28]", "mean": "[0.5]"], mentions: "'input_shape': 100.0 is not a whole number in 1...64")
    }

    func testImpossibleNormalizationIsAnErrorNamingTheKey() {
        assertRefused(["std": "[0]"], mentions: "'std': item 0 is 0.0; every std must be > 0")
        assertRefused(["std": "[1e-50]"], mentions: "'std': item 0")
        assertRefused(["mean": "[0.5, 0.5]"], mentions: "'mean': has 2 values for 1 channels")
        assertRefused(["mean": "nan"], mentions: "'mean': \"nan\" is not a JSON list")
    }

    func testAValidDescriptionStillReads() throws {
        let d = try Checkpoint.description(of: SafeTensorsFile(tensors: [], metadata: metadata), path: "ok.safetensors")
        XCTAssertEqual(d, ModelDescription(name: "small-cnn", numClasses: 10, inputShape: [1, 8, 8], mean: [0.5], std: [0.25]))
    }

    func testNonFiniteWeightsAreRefusedNamingTheTensor() throws {
        let description = ModelDescription(name: "small-cnn", numClasses: 3, inputShape: [1, 8, 8], mean: [0.5], std: [0.25])
        for bad in [Float.nan, .infinity, -.infinity] {
            let source = try ModelZoo.make(description, seed: 1), target = try ModelZoo.make(description, seed: 2)
            let fc1 = try XCTUnwrap(source.stateDict.first { $0.0 == "fc1.weight" }?.1)
            fc1.pointer[17] = bad
            let before = Array(UnsafeBufferPointer(start: target.stateDict[0].1.pointer, count: target.stateDict[0].1.count))
            XCTAssertThrowsError(try target.load(SafeTensorsFile(tensors: source.stateDict), path: "nan.safetensors")) { error in
                XCTAssertEqual("\(error)", "checkpoint nan.safetensors: tensor 'fc1.weight': element 17 is \(bad) (weights must be finite)")
            }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: target.stateDict[0].1.pointer, count: target.stateDict[0].1.count)), before,
                           "a refused load leaves the model untouched")
        }
    }

    func testACheckpointFileWithNaNWeightsFailsToLoad() throws {
        let description = ModelDescription(name: "small-cnn", numClasses: 3, inputShape: [1, 8, 8], mean: [0.5], std: [0.25])
        let model = try ModelZoo.make(description, seed: 1)
        model.stateDict.last!.1.pointer[0] = .nan
        let path = NSTemporaryDirectory() + "rt-nan-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(model, to: path)
        XCTAssertThrowsError(try Checkpoint.load(path)) { error in
            XCTAssertTrue("\(error)".contains("\(path): tensor 'fc2.bias': element 0 is nan"), "\(error)")
        }
    }
}
