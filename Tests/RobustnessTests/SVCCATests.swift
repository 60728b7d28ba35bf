import Foundation
import TensorEngine
import XCTest
@testable import Robustness

/// SVCCA (Raghu et al. 2017): identity, invariance to invertible linear maps (where linear CKA
/// moves), a closed form built from orthogonal columns, the 99% truncation, and agreement with an
/// independent NumPy implementation (skipped without numpy).
final class SVCCATests: XCTestCase {
    /// Row-major n × p matrices.
    struct Matrix {
        var rows: Int
        var columns: Int
        var values: [Double]

        static func normal(_ rows: Int, _ columns: Int, seed: UInt64) -> Matrix {
            var generator = RandomGenerator(seed: seed)
            return Matrix(rows: rows, columns: columns, values: (0..<(rows * columns)).map { _ in Double(generator.nextNormal()) })
        }

        func times(_ other: Matrix) -> Matrix {
            var out = [Double](repeating: 0, count: rows * other.columns)
            for i in 0..<rows { for k in 0..<columns { for j in 0..<other.columns { out[i * other.columns + j] += values[i * columns + k] * other.values[k * other.columns + j] } } }
            return Matrix(rows: rows, columns: other.columns, values: out)
        }

        func map(_ f: (Double) -> Double) -> Matrix { Matrix(rows: rows, columns: columns, values: values.map(f)) }
    }

    func svcca(_ a: Matrix, _ b: Matrix, batch: Int = 64) throws -> SVCCAResult {
        var accumulator = SVCCAAccumulator(neuronsA: a.columns, neuronsB: b.columns)
        // Several minibatches, as the stage comparison adds them.
        var start = 0
        while start < a.rows {
            let m = min(batch, a.rows - start)
            a.values.withUnsafeBufferPointer { pa in
                b.values.withUnsafeBufferPointer { pb in
                    accumulator.add(a: pa.baseAddress! + start * a.columns, b: pb.baseAddress! + start * b.columns, count: m)
                }
            }
            start += m
        }
        return try XCTUnwrap(try accumulator.result())
    }

    /// Linear CKA on all rows at once (the biased full-data form is enough to show it moves).
    func linearCKA(_ a: Matrix, _ b: Matrix) -> Double {
        var accumulator = LinearCKAAccumulator()
        func gram(_ x: Matrix) -> [Float] {
            var k = [Float](repeating: 0, count: x.rows * x.rows)
            for i in 0..<x.rows { for j in 0..<x.rows { var s = 0.0; for f in 0..<x.columns { s += x.values[i * x.columns + f] * x.values[j * x.columns + f] }; k[i * x.rows + j] = Float(s) } }
            return k
        }
        accumulator.add(gramA: gram(a), gramB: gram(b), count: a.rows)
        return accumulator.value!
    }

    /// A representation and a nonlinear function of it with 6 neurons each, every direction above 1%
    /// of the variance: all are kept, so SVCCA is CCA and exactly invariant to invertible maps.
    func representations() -> (x: Matrix, y: Matrix) {
        let z = Matrix.normal(300, 6, seed: 1)
        var mixing = Matrix.normal(6, 6, seed: 2).map { 0.3 * $0 }
        for i in 0..<6 { mixing.values[i * 6 + i] += 1 }
        let x = z.times(mixing)
        let y = z.times(Matrix.normal(6, 6, seed: 3)).map { tanh($0) + 0.3 * $0 * $0 }
        return (x, y)
    }

    func testARepresentationWithItselfIsOne() throws {
        let (x, y) = representations()
        let same = try svcca(x, x)
        XCTAssertEqual(same.value, 1, accuracy: 1e-9)
        XCTAssertTrue(same.correlations.allSatisfy { abs($0 - 1) < 1e-9 })
        XCTAssertEqual(try svcca(y, y).value, 1, accuracy: 1e-9)
        XCTAssertLessThan(try svcca(x, y).value, 0.99)
    }

    func testInvariantToAnInvertibleLinearMapUnlikeCKA() throws {
        let (x, y) = representations()
        // An invertible, far from orthogonal map (singular values 4.5 to 0.86), mild enough that
        // every direction of the mapped representation still explains over 1% of its variance.
        let diagonal: [Double] = [1, 2, 3, 1.5, 2.5, 1]
        var map = Matrix(rows: 6, columns: 6, values: [Double](repeating: 0, count: 36))
        for i in 0..<6 {
            map.values[i * 6 + i] = diagonal[i]
            for j in (i + 1)..<6 { map.values[i * 6 + j] = 0.8 }
        }
        let mapped = x.times(map)
        let before = try svcca(x, y), after = try svcca(mapped, y)
        XCTAssertEqual(before.directionsA, 6)
        XCTAssertEqual(after.directionsA, 6)
        XCTAssertEqual(after.value, before.value, accuracy: 1e-9)
        for (a, b) in zip(after.correlations, before.correlations) { XCTAssertEqual(a, b, accuracy: 1e-9) }
        // Linear CKA is invariant to rotations and scaling only: this map moves it.
        XCTAssertGreaterThan(abs(linearCKA(mapped, y) - linearCKA(x, y)), 0.01, "measured: 0.015")
    }

    /// Orthogonal centred columns (a Sylvester Hadamard matrix's, all but the first): with
    /// X = [h1, h2, h3] and Y = [cos θ·h1 + sin θ·h4, h2, h5] the canonical correlations are 1 (h2),
    /// cos θ (h1) and 0 (h3 against h5), so SVCCA is (1 + cos θ)/3.
    func testClosedFormFromOrthogonalColumns() throws {
        var hadamard: [[Double]] = [[1]]
        for _ in 0..<3 { hadamard = hadamard.map { $0 + $0 } + hadamard.map { $0 + $0.map { -$0 } } }
        func column(_ j: Int) -> [Double] { hadamard.map { $0[j] } }
        let theta = 0.7
        func matrix(_ columns: [[Double]]) -> Matrix {
            Matrix(rows: 8, columns: columns.count, values: (0..<8).flatMap { r in columns.map { $0[r] } })
        }
        let x = matrix([column(1), column(2), column(3)])
        let y = matrix([zip(column(1), column(4)).map { cos(theta) * $0 + sin(theta) * $1 }, column(2), column(5)])
        let result = try svcca(x, y, batch: 3)
        XCTAssertEqual(result.directionsA, 3)
        XCTAssertEqual(result.directionsB, 3)
        XCTAssertEqual(result.value, (1 + cos(theta)) / 3, accuracy: 1e-12)
        XCTAssertEqual(result.correlations[0], 1, accuracy: 1e-12)
        XCTAssertEqual(result.correlations[1], cos(theta), accuracy: 1e-12)
        XCTAssertEqual(result.correlations[2], 0, accuracy: 1e-12)
    }

    /// Variances 90, 9.5, 0.25, 0.25 (orthogonal columns): 90% < 99% ≤ 99.5%, so two directions are
    /// kept; the two dropped ones cannot lower the score.
    func testKeepsTheDirectionsThatExplainNinetyNinePercent() throws {
        var hadamard: [[Double]] = [[1]]
        for _ in 0..<3 { hadamard = hadamard.map { $0 + $0 } + hadamard.map { $0 + $0.map { -$0 } } }
        let scales = [90.0, 9.5, 0.25, 0.25].map { $0.squareRoot() }
        let x = Matrix(rows: 8, columns: 4, values: (0..<8).flatMap { r in (0..<4).map { scales[$0] * hadamard[r][$0 + 1] } })
        let y = Matrix(rows: 8, columns: 2, values: (0..<8).flatMap { r in [hadamard[r][1], hadamard[r][2] + hadamard[r][5]] })
        let result = try svcca(x, y)
        XCTAssertEqual(result.directionsA, 2)
        XCTAssertEqual(result.directionsB, 2)
        // Y's span holds h1 and h2 + h5, whose correlation with h2 is 1/√2.
        XCTAssertEqual(result.value, (1 + 0.5.squareRoot()) / 2, accuracy: 1e-12)
        XCTAssertNil(try SVCCAAccumulator(neuronsA: 2, neuronsB: 2).result())
    }

    /// scripts/reference/svcca_reference.py: NumPy, from the data matrices (SVD of the centred data,
    /// then CCA through QR), a route independent of rt's covariance eigen-decomposition.
    func testAgreesWithNumPy() throws {
        // The python3 on PATH, else the torch reference venv (it has numpy too).
        let candidates = [["/usr/bin/env", "python3"], [TorchReference.repository.appendingPathComponent(".venv-torch/bin/python").path]]
        guard let python = candidates.first(where: { (try? TorchReference.run($0[0], Array($0.dropFirst()) + ["-c", "import numpy"])) != nil }) else {
            throw XCTSkip("numpy is not importable by python3 on PATH or .venv-torch (pip install numpy)")
        }
        // Correlated representations of different widths with a long tail of small directions, so
        // the 99% truncation drops some.
        let z = Matrix.normal(500, 12, seed: 21)
        var spread = Matrix.normal(12, 10, seed: 22)
        for i in 0..<12 { for j in 0..<10 { spread.values[i * 10 + j] *= pow(0.55, Double(i)) } }
        let x = z.times(spread)
        let y = z.times(Matrix.normal(12, 7, seed: 23)).map { max($0, 0) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-svcca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ m: Matrix, _ name: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try m.values.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
            return path
        }
        let output = try TorchReference.run(python[0], Array(python.dropFirst()) + [TorchReference.script("svcca_reference.py"),
                                                     try write(x, "a.f64"), "500", "10", try write(y, "b.f64"), "500", "7"])
        let line = try XCTUnwrap(output.split(separator: "\n").last)
        let reference = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let ours = try svcca(x, y)
        print("SVCCA rt \(ours.value) (\(ours.directionsA), \(ours.directionsB) directions), numpy \(reference["svcca"]!) (\(reference["directions_a"]!), \(reference["directions_b"]!))")
        XCTAssertEqual(ours.directionsA, reference["directions_a"] as? Int)
        XCTAssertEqual(ours.directionsB, reference["directions_b"] as? Int)
        XCTAssertLessThan(ours.directionsA, 10, "the truncation should drop some directions of A")
        XCTAssertEqual(ours.value, try XCTUnwrap(reference["svcca"] as? Double), accuracy: 1e-8)
        let correlations = try XCTUnwrap(reference["correlations"] as? [Double])
        XCTAssertEqual(ours.correlations.count, correlations.count)
        for (a, b) in zip(ours.correlations, correlations) { XCTAssertEqual(a, b, accuracy: 1e-8) }
    }
}
