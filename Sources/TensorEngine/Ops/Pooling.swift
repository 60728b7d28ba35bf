/// Window sizes of a pooling op.
public struct Pool2dGeometry: Equatable, Sendable {
    public let batch, channels, height, width: Int
    public let kernel, stride, padding: Int
    public let outHeight, outWidth: Int

    init(input: [Int], kernel: Int, stride: Int, padding: Int, op: String) throws {
        try require(input.count == 4, .shapeMismatch(op: op, shapes: [input], reason: "needs (N, C, H, W)"))
        try require(kernel >= 1 && stride >= 1 && padding >= 0 && padding * 2 <= kernel,
                    .invalidArgument(op: op, reason: "kernel \(kernel), stride \(stride), padding \(padding) (padding at most half the kernel)"))
        (batch, channels, height, width) = (input[0], input[1], input[2], input[3])
        (self.kernel, self.stride, self.padding) = (kernel, stride, padding)
        try require(height + 2 * padding >= kernel && width + 2 * padding >= kernel,
                    .shapeMismatch(op: op, shapes: [input], reason: "window \(kernel) is larger than the padded input"))
        outHeight = (height + 2 * padding - kernel) / stride + 1
        outWidth = (width + 2 * padding - kernel) / stride + 1
    }

    var planes: Int { batch * channels }
}

/// Indices of the maxima chosen by a max-pool forward pass (one per output value).
final class IndexBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>
    init(count: Int) { pointer = .allocate(capacity: max(count, 1)) }
    deinit { pointer.deallocate() }
}

enum Pooling {
    static func maxPool(_ x: Tensor, kernel: Int, stride: Int, padding: Int) throws -> Tensor {
        let geo = try Pool2dGeometry(input: x.shape, kernel: kernel, stride: stride, padding: padding, op: "maxPool2d")
        let (h, w, ho, wo) = (geo.height, geo.width, geo.outHeight, geo.outWidth)
        let out = Storage(uninitializedCount: geo.planes * ho * wo)
        let argmax = IndexBuffer(count: out.count)
        let xp = x.pointer, yp = out.pointer, ap = argmax.pointer
        if kernel == 2 && stride == 2 && padding == 0 {
            maxPool2x2(xp, yp, ap, geo)
            return Tensor.result(shape: [geo.batch, geo.channels, ho, wo], storage: out,
                                 op: .maxPool2d(x, argmax: argmax, geo), inputs: x)
        }
        Parallel.forEachChunk(geo.planes, grain: 8) { _, planes in
            for plane in planes {
                let src = xp + plane * h * w
                for oh in 0..<ho {
                    for ow in 0..<wo {
                        var best = -Float.infinity, bestIndex: Int32 = -1
                        for i in max(0, oh * stride - padding)..<min(h, oh * stride - padding + kernel) {
                            for j in max(0, ow * stride - padding)..<min(w, ow * stride - padding + kernel) {
                                let v = src[i * w + j]
                                // A NaN wins and stays (nothing compares greater), so it propagates as in PyTorch.
                                if v > best || bestIndex < 0 || (v.isNaN && !best.isNaN) { best = v; bestIndex = Int32(i * w + j) }
                            }
                        }
                        let o = plane * ho * wo + oh * wo + ow
                        yp[o] = best
                        ap[o] = bestIndex
                    }
                }
            }
        }
        return Tensor.result(shape: [geo.batch, geo.channels, ho, wo], storage: out,
                             op: .maxPool2d(x, argmax: argmax, geo), inputs: x)
    }

    // The 2×2, stride-2 window of every CNN here, without the general loop's bounds arithmetic.
    // Ties keep the first maximum in row-major order and a NaN wins, as in PyTorch.
    private static func maxPool2x2(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>,
                                   _ ap: UnsafeMutablePointer<Int32>, _ geo: Pool2dGeometry) {
        let (h, w, ho, wo) = (geo.height, geo.width, geo.outHeight, geo.outWidth)
        Parallel.forEachChunk(geo.planes, grain: 8) { _, planes in
            for plane in planes {
                let src = xp + plane * h * w
                var o = plane * ho * wo
                for oh in 0..<ho {
                    let top = 2 * oh * w
                    for ow in 0..<wo {
                        let i = top + 2 * ow
                        var best = src[i], index = i
                        @inline(__always) func consider(_ j: Int) {
                            let v = src[j]
                            if (v > best || v.isNaN) && !best.isNaN { best = v; index = j }
                        }
                        consider(i + 1)
                        consider(i + w)
                        consider(i + w + 1)
                        yp[o] = best
                        ap[o] = Int32(index)
                        o += 1
                    }
                }
            }
        }
    }

    // The gradient goes to the input that was the maximum of each window.
    static func maxPoolBackward(_ g: Tensor, _ x: Tensor, _ argmax: IndexBuffer, _ geo: Pool2dGeometry) -> Tensor {
        let dx = Storage(count: x.count)
        let per = geo.outHeight * geo.outWidth, planeSize = geo.height * geo.width
        let gp = g.pointer, dp = dx.pointer, ap = argmax.pointer
        Parallel.forEachChunk(geo.planes, grain: 8) { _, planes in
            for plane in planes {
                for o in plane * per..<(plane + 1) * per {
                    dp[plane * planeSize + Int(ap[o])] += gp[o]
                }
            }
        }
        return Tensor(shape: x.shape, storage: dx)
    }

    // Average over the window, padding counted as zeros (PyTorch's count_include_pad=True).
    static func avgPool(_ x: Tensor, kernel: Int, stride: Int, padding: Int) throws -> Tensor {
        let geo = try Pool2dGeometry(input: x.shape, kernel: kernel, stride: stride, padding: padding, op: "avgPool2d")
        let (h, w, ho, wo) = (geo.height, geo.width, geo.outHeight, geo.outWidth)
        let out = Storage(uninitializedCount: geo.planes * ho * wo)
        let scale = 1 / Float(kernel * kernel)
        let xp = x.pointer, yp = out.pointer
        Parallel.forEachChunk(geo.planes, grain: 8) { _, planes in
            for plane in planes {
                let src = xp + plane * h * w
                for oh in 0..<ho {
                    for ow in 0..<wo {
                        var s: Float = 0
                        for i in max(0, oh * stride - padding)..<min(h, oh * stride - padding + kernel) {
                            for j in max(0, ow * stride - padding)..<min(w, ow * stride - padding + kernel) { s += src[i * w + j] }
                        }
                        yp[plane * ho * wo + oh * wo + ow] = s * scale
                    }
                }
            }
        }
        return Tensor.result(shape: [geo.batch, geo.channels, ho, wo], storage: out, op: .avgPool2d(x, geo), inputs: x)
    }

    static func avgPoolBackward(_ g: Tensor, _ x: Tensor, _ geo: Pool2dGeometry) -> Tensor {
        let (h, w, ho, wo, k, s, pad) = (geo.height, geo.width, geo.outHeight, geo.outWidth, geo.kernel, geo.stride, geo.padding)
        let dx = Storage(count: x.count)
        let scale = 1 / Float(k * k)
        let gp = g.pointer, dp = dx.pointer
        Parallel.forEachChunk(geo.planes, grain: 8) { _, planes in
            for plane in planes {
                let dst = dp + plane * h * w
                for oh in 0..<ho {
                    for ow in 0..<wo {
                        let v = gp[plane * ho * wo + oh * wo + ow] * scale
                        for i in max(0, oh * s - pad)..<min(h, oh * s - pad + k) {
                            for j in max(0, ow * s - pad)..<min(w, ow * s - pad + k) { dst[i * w + j] += v }
                        }
                    }
                }
            }
        }
        return Tensor(shape: x.shape, storage: dx)
    }

    // (N, C, H, W) -> (N, C): the mean of each plane
    static func globalAvgPool(_ x: Tensor) throws -> Tensor {
        try require(x.rank == 4, .shapeMismatch(op: "globalAvgPool", shapes: [x.shape], reason: "needs (N, C, H, W)"))
        let planes = x.shape[0] * x.shape[1], size = x.shape[2] * x.shape[3]
        let out = Storage(uninitializedCount: planes)
        let xp = x.pointer, scale = 1 / Float(size)
        for plane in 0..<planes {
            var s: Float = 0
            let src = xp + plane * size
            for i in 0..<size { s += src[i] }
            out.pointer[plane] = s * scale
        }
        return Tensor.result(shape: [x.shape[0], x.shape[1]], storage: out, op: .globalAvgPool(x), inputs: x)
    }

    static func globalAvgPoolBackward(_ g: Tensor, _ x: Tensor) -> Tensor {
        let planes = x.shape[0] * x.shape[1], size = x.shape[2] * x.shape[3]
        let dx = Storage(uninitializedCount: x.count)
        let scale = 1 / Float(size)
        for plane in 0..<planes {
            (dx.pointer + plane * size).initialize(repeating: g.pointer[plane] * scale, count: size)
        }
        return Tensor(shape: x.shape, storage: dx)
    }
}

extension Tensor {
    public func maxPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) throws -> Tensor {
        try Pooling.maxPool(self, kernel: kernel, stride: stride ?? kernel, padding: padding)
    }
    public func avgPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) throws -> Tensor {
        try Pooling.avgPool(self, kernel: kernel, stride: stride ?? kernel, padding: padding)
    }
    /// (N, C, H, W) -> (N, C)
    public func globalAvgPool() throws -> Tensor { try Pooling.globalAvgPool(self) }
}
