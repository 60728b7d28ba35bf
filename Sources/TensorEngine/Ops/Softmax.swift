import Foundation

/// Softmax and log-softmax along the last dimension, computed stably (max subtracted).
enum Softmax {
    static func rows(_ x: Tensor) throws -> (rows: Int, width: Int) {
        try require(x.rank >= 1 && x.shape.last! > 0, .shapeMismatch(op: "softmax", shapes: [x.shape], reason: "needs a non-empty last dimension"))
        return (x.count / x.shape.last!, x.shape.last!)
    }

    // y = x − max − log Σ exp(x − max)
    static func logSoftmax(_ x: Tensor) throws -> Tensor {
        let (n, k) = try rows(x)
        let out = Storage(uninitializedCount: x.count)
        for r in 0..<n { logSoftmaxRow(x.pointer + r * k, out.pointer + r * k, k) }
        return Tensor.result(shape: x.shape, storage: out, op: .logSoftmax(x), inputs: x)
    }

    @inline(__always)
    static func logSoftmaxRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ k: Int) {
        var m = -Float.infinity
        for j in 0..<k { m = max(m, src[j]) }
        var s: Float = 0
        for j in 0..<k { s += Foundation.exp(src[j] - m) }
        let lse = m + Foundation.log(s)
        for j in 0..<k { dst[j] = src[j] - lse }
    }

    // dx = g − softmax · Σ g
    static func logSoftmaxBackward(_ g: Tensor, _ y: Tensor) -> Tensor {
        let k = y.shape.last!, n = y.count / k
        let dx = Storage(uninitializedCount: y.count)
        for r in 0..<n {
            let gr = g.pointer + r * k, yr = y.pointer + r * k, dr = dx.pointer + r * k
            var s: Float = 0
            for j in 0..<k { s += gr[j] }
            for j in 0..<k { dr[j] = gr[j] - Foundation.exp(yr[j]) * s }
        }
        return Tensor(shape: y.shape, storage: dx)
    }

    static func softmax(_ x: Tensor) throws -> Tensor {
        let (n, k) = try rows(x)
        let out = Storage(uninitializedCount: x.count)
        for r in 0..<n {
            logSoftmaxRow(x.pointer + r * k, out.pointer + r * k, k)
            for j in 0..<k { out.pointer[r * k + j] = Foundation.exp(out.pointer[r * k + j]) }
        }
        return Tensor.result(shape: x.shape, storage: out, op: .softmax(x), inputs: x)
    }

    // dx = y · (g − Σ g·y)
    static func softmaxBackward(_ g: Tensor, _ y: Tensor) -> Tensor {
        let k = y.shape.last!, n = y.count / k
        let dx = Storage(uninitializedCount: y.count)
        for r in 0..<n {
            let gr = g.pointer + r * k, yr = y.pointer + r * k, dr = dx.pointer + r * k
            var s: Float = 0
            for j in 0..<k { s += gr[j] * yr[j] }
            for j in 0..<k { dr[j] = yr[j] * (gr[j] - s) }
        }
        return Tensor(shape: y.shape, storage: dx)
    }
}

extension Tensor {
    public func logSoftmax() throws -> Tensor { try Softmax.logSoftmax(self) }
    public func softmax() throws -> Tensor { try Softmax.softmax(self) }
}
