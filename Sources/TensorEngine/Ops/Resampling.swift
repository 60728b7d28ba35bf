/// Bilinear resizing and zero padding of (N, C, H, W) images: the geometric ops of input
/// diversity (DI-FGSM resizes and pads the attacked image at every step and differentiates
/// through both). Forward and backward side by side; both are linear maps, so each backward
/// is the transpose of its forward.

/// For each output index along one axis: the two source indices and the weight of the second,
/// with half-pixel centres (`align_corners=False`, as torch.nn.functional.interpolate and
/// OpenCV's INTER_LINEAR): output o samples source position (o + 0.5)·in/out − 0.5, clamped at 0
/// and at the last index. No antialiasing: strong downscaling aliases, as in those references.
public struct BilinearTaps: Sendable {
    public let low: [Int]
    public let high: [Int]
    public let weight: [Float]

    public init(output: Int, input: Int) {
        let scale = Float(input) / Float(output)
        var low = [Int](), high = [Int](), weight = [Float]()
        for o in 0..<output {
            let position = max(0, (Float(o) + 0.5) * scale - 0.5)
            let l = min(Int(position), input - 1)
            low.append(l)
            high.append(min(l + 1, input - 1))
            weight.append(position - Float(l))
        }
        (self.low, self.high, self.weight) = (low, high, weight)
    }
}

enum Resampling {
    // MARK: bilinear resize

    static func resizeBilinear(_ x: Tensor, height: Int, width: Int) throws -> Tensor {
        try require(x.rank == 4, .shapeMismatch(op: "resizeBilinear", shapes: [x.shape], reason: "needs (N, C, H, W)"))
        try require(height >= 1 && width >= 1, .invalidArgument(op: "resizeBilinear", reason: "size \(height)x\(width) is not positive"))
        let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        try require(h >= 1 && w >= 1, .shapeMismatch(op: "resizeBilinear", shapes: [x.shape], reason: "empty image"))
        let rows = BilinearTaps(output: height, input: h), columns = BilinearTaps(output: width, input: w)
        let out = Storage(uninitializedCount: planes * height * width)
        let xp = x.pointer, yp = out.pointer
        Parallel.forEachChunk(planes, grain: 4) { _, range in
            for plane in range {
                let src = xp + plane * h * w, dst = yp + plane * height * width
                for oy in 0..<height {
                    let top = src + rows.low[oy] * w, bottom = src + rows.high[oy] * w, wy = rows.weight[oy]
                    for ox in 0..<width {
                        let (l, r, wx) = (columns.low[ox], columns.high[ox], columns.weight[ox])
                        let upper = (1 - wx) * top[l] + wx * top[r]
                        let lower = (1 - wx) * bottom[l] + wx * bottom[r]
                        dst[oy * width + ox] = (1 - wy) * upper + wy * lower
                    }
                }
            }
        }
        return Tensor.result(shape: [x.shape[0], x.shape[1], height, width], storage: out, op: .resizeBilinear(x), inputs: x)
    }

    /// Each output's gradient goes back to its four source pixels with the forward weights (+=:
    /// when upsampling, several outputs share a source pixel).
    static func resizeBilinearBackward(_ g: Tensor, _ x: Tensor) -> Tensor {
        let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        let (height, width) = (g.shape[2], g.shape[3])
        let rows = BilinearTaps(output: height, input: h), columns = BilinearTaps(output: width, input: w)
        let d = Storage(count: x.count)
        let gp = g.pointer, dp = d.pointer
        Parallel.forEachChunk(planes, grain: 4) { _, range in
            for plane in range {
                let src = gp + plane * height * width, dst = dp + plane * h * w
                for oy in 0..<height {
                    let top = dst + rows.low[oy] * w, bottom = dst + rows.high[oy] * w, wy = rows.weight[oy]
                    for ox in 0..<width {
                        let (l, r, wx) = (columns.low[ox], columns.high[ox], columns.weight[ox])
                        let gv = src[oy * width + ox]
                        let upper = (1 - wy) * gv, lower = wy * gv
                        top[l] += (1 - wx) * upper
                        top[r] += wx * upper
                        bottom[l] += (1 - wx) * lower
                        bottom[r] += wx * lower
                    }
                }
            }
        }
        return Tensor(shape: x.shape, storage: d)
    }

    // MARK: zero padding

    /// (N, C, h, w) placed at (top, left) in a zero (N, C, height, width) canvas.
    static func pad(_ x: Tensor, top: Int, left: Int, height: Int, width: Int) throws -> Tensor {
        try require(x.rank == 4, .shapeMismatch(op: "pad2d", shapes: [x.shape], reason: "needs (N, C, H, W)"))
        let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        try require(top >= 0 && left >= 0 && top + h <= height && left + w <= width,
                    .invalidArgument(op: "pad2d", reason: "a \(h)x\(w) image at (\(top), \(left)) does not fit in \(height)x\(width)"))
        let out = Storage(count: planes * height * width)
        let xp = x.pointer, yp = out.pointer
        for plane in 0..<planes {
            for i in 0..<h {
                (yp + plane * height * width + (top + i) * width + left).update(from: xp + plane * h * w + i * w, count: w)
            }
        }
        return Tensor.result(shape: [x.shape[0], x.shape[1], height, width], storage: out,
                             op: .pad2d(x, top: top, left: left), inputs: x)
    }

    /// The gradient of the padding is dropped: the input's is the crop at (top, left).
    static func padBackward(_ g: Tensor, _ x: Tensor, top: Int, left: Int) -> Tensor {
        let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        let (height, width) = (g.shape[2], g.shape[3])
        let d = Storage(uninitializedCount: x.count)
        let gp = g.pointer, dp = d.pointer
        for plane in 0..<planes {
            for i in 0..<h {
                (dp + plane * h * w + i * w).update(from: gp + plane * height * width + (top + i) * width + left, count: w)
            }
        }
        return Tensor(shape: x.shape, storage: d)
    }
}

extension Tensor {
    /// (N, C, H, W) -> (N, C, height, width), bilinear with half-pixel centres (PyTorch's
    /// `interpolate(mode="bilinear", align_corners=False)`, no antialiasing).
    public func resizedBilinear(height: Int, width: Int) throws -> Tensor {
        try Resampling.resizeBilinear(self, height: height, width: width)
    }

    /// (N, C, h, w) -> (N, C, height, width): the image at row `top`, column `left`, zeros around
    /// (PyTorch's `F.pad(x, [left, width - w - left, top, height - h - top])`).
    public func padded(top: Int, left: Int, height: Int, width: Int) throws -> Tensor {
        try Resampling.pad(self, top: top, left: left, height: height, width: width)
    }
}
