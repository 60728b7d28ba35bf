import XCTest
@testable import TensorEngine

/// LAPACK through OpenBLAS: eigen-decomposition and singular values against closed forms and reconstruction.
final class LinearAlgebraTests: XCTestCase {
    func testSymmetricEigenOfATwoByTwo() throws {
        let (values, vectors) = try LinearAlgebra.symmetricEigen([2, 1, 1, 2], n: 2)
        XCTAssertEqual(values[0], 3, accuracy: 1e-12)
        XCTAssertEqual(values[1], 1, accuracy: 1e-12)
        // The first eigenvector is ±(1, 1)/√2.
        XCTAssertEqual(abs(vectors[0]), 0.5.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(vectors[0], vectors[1], accuracy: 1e-12)
    }

    func testSymmetricEigenReconstructsTheMatrix() throws {
        let n = 7
        var generator = RandomGenerator(seed: 11)
        let b = (0..<(n * n)).map { _ in Double(generator.nextNormal()) }
        // A = B + Bᵀ is symmetric with eigenvalues of both signs.
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { a[i * n + j] = b[i * n + j] + b[j * n + i] } }
        let (values, vectors) = try LinearAlgebra.symmetricEigen(a, n: n)
        XCTAssertEqual(values, values.sorted(by: >))
        for i in 0..<n {
            for j in 0..<n {
                var sum = 0.0
                for k in 0..<n { sum += vectors[k * n + i] * values[k] * vectors[k * n + j] }
                XCTAssertEqual(sum, a[i * n + j], accuracy: 1e-10)
            }
        }
        XCTAssertThrowsError(try LinearAlgebra.symmetricEigen([1, 2, 3], n: 2))
    }

    /// The singular values of a rows × columns matrix are the square roots of the eigenvalues of AᵀA
    /// (a wide and a tall matrix, so both of LAPACK's layouts are exercised).
    func testSingularValuesAreTheRootsOfTheGramsEigenvalues() throws {
        for (rows, columns) in [(3, 5), (6, 2)] {
            var generator = RandomGenerator(seed: UInt64(rows * 10 + columns))
            let a = (0..<(rows * columns)).map { _ in Double(generator.nextNormal()) }
            var gram = [Double](repeating: 0, count: columns * columns)
            for i in 0..<columns { for j in 0..<columns { for r in 0..<rows { gram[i * columns + j] += a[r * columns + i] * a[r * columns + j] } } }
            let want = try LinearAlgebra.symmetricEigen(gram, n: columns).values.prefix(min(rows, columns)).map { max($0, 0).squareRoot() }
            let got = try LinearAlgebra.singularValues(a, rows: rows, columns: columns)
            XCTAssertEqual(got.count, min(rows, columns))
            for (g, w) in zip(got, want) { XCTAssertEqual(g, w, accuracy: 1e-10) }
        }
        // diag(3, 2) inside a 2 × 3 matrix.
        let diagonal = try LinearAlgebra.singularValues([0, 3, 0, 2, 0, 0], rows: 2, columns: 3)
        XCTAssertEqual(diagonal[0], 3, accuracy: 1e-12)
        XCTAssertEqual(diagonal[1], 2, accuracy: 1e-12)
    }
}
