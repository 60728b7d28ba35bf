import CLAPACK

/// Double-precision dense linear algebra from LAPACK (through OpenBLAS): what analyses need
/// beyond GEMM. Matrices are row-major [Double]; LAPACK's column-major view of a row-major
/// matrix is its transpose, which neither routine here minds (a symmetric matrix is its own
/// transpose; a matrix and its transpose have the same singular values).
public enum LinearAlgebra {
    /// The eigenvalues of a symmetric n × n matrix in descending order, and eigenvector j (unit
    /// length) at `vectors[j * n ..< (j + 1) * n]` (LAPACK dsyevd, divide and conquer).
    public static func symmetricEigen(_ matrix: [Double], n: Int) throws -> (values: [Double], vectors: [Double]) {
        try require(n >= 1 && matrix.count == n * n,
                    .invalidArgument(op: "symmetricEigen", reason: "\(matrix.count) values for a \(n) x \(n) matrix"))
        var a = matrix, values = [Double](repeating: 0, count: n)
        var n32 = Int32(n), info: Int32 = 0
        var jobz = CChar(UInt8(ascii: "V")), uplo = CChar(UInt8(ascii: "U"))
        // Workspace query first (lwork = -1), then the decomposition.
        var workSize = 0.0, iworkSize: Int32 = 0, query: Int32 = -1
        dsyevd_(&jobz, &uplo, &n32, &a, &n32, &values, &workSize, &query, &iworkSize, &query, &info, 1, 1)
        try check(info, "dsyevd (workspace query)")
        var lwork = Int32(workSize), liwork = iworkSize
        var work = [Double](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jobz, &uplo, &n32, &a, &n32, &values, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        try check(info, "dsyevd")
        // LAPACK gives ascending values, eigenvector j in column j (contiguous in column-major).
        var vectors = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            let source = n - 1 - j
            for i in 0..<n { vectors[j * n + i] = a[source * n + i] }
        }
        return (Array(values.reversed()), vectors)
    }

    /// The min(rows, columns) singular values of a rows × columns matrix, descending (LAPACK dgesdd).
    public static func singularValues(_ matrix: [Double], rows: Int, columns: Int) throws -> [Double] {
        try require(rows >= 1 && columns >= 1 && matrix.count == rows * columns,
                    .invalidArgument(op: "singularValues", reason: "\(matrix.count) values for a \(rows) x \(columns) matrix"))
        // Row-major rows × columns is column-major columns × rows.
        var a = matrix, m = Int32(columns), n = Int32(rows), lda = Int32(columns), one: Int32 = 1, info: Int32 = 0
        var values = [Double](repeating: 0, count: min(rows, columns))
        var jobz = CChar(UInt8(ascii: "N")), u = 0.0, vt = 0.0  // not computed with jobz N
        var iwork = [Int32](repeating: 0, count: 8 * min(rows, columns))
        var workSize = 0.0, query: Int32 = -1
        dgesdd_(&jobz, &m, &n, &a, &lda, &values, &u, &one, &vt, &one, &workSize, &query, &iwork, &info, 1)
        try check(info, "dgesdd (workspace query)")
        var lwork = Int32(workSize)
        var work = [Double](repeating: 0, count: Int(lwork))
        dgesdd_(&jobz, &m, &n, &a, &lda, &values, &u, &one, &vt, &one, &work, &lwork, &iwork, &info, 1)
        try check(info, "dgesdd")
        return values
    }

    private static func check(_ info: Int32, _ routine: String) throws {
        guard info == 0 else {
            throw TensorError.invalidArgument(op: routine, reason: info < 0 ? "argument \(-info) is invalid" : "did not converge (info \(info))")
        }
    }
}
