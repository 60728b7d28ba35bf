import XCTest
@testable import TensorEngine

/// Every differentiable op against finite differences, for all of its inputs.
final class OpGradientTests: XCTestCase {
    let checker = GradientChecker()

    func testBroadcastingArithmetic() throws {
        let a = parameter([2, 3, 4], seed: 1), b = parameter([3, 1], seed: 2)
        let positive = parameter([1, 3, 4], seed: 3, low: 0.5, high: 2)
        try checker.check([a, b]) { try $0[0] + $0[1] }
        try checker.check([a, b]) { try $0[0] - $0[1] }
        try checker.check([a, b]) { try $0[0] * $0[1] }
        try checker.check([a, positive]) { try $0[0] / $0[1] }
        let scalar = parameter([], seed: 4)
        try checker.check([a, scalar]) { try $0[0] * $0[1] }
        try checker.check([b]) { try $0[0].broadcast(to: [2, 3, 5]) }
    }

    func testUnaryOps() throws {
        let x = parameter([3, 5], seed: 5)
        let positive = parameter([3, 5], seed: 6, low: 0.3, high: 2)
        let spread = spreadParameter([4, 6], seed: 7)
        try checker.check([x]) { $0[0] * 3 + 1.5 }
        try checker.check([x]) { -$0[0] / 4 - 2 }
        try checker.check([x]) { $0[0].pow(2) }
        try checker.check([positive]) { $0[0].pow(1.7) }
        try checker.check([positive]) { $0[0].sqrt() }
        try checker.check([x]) { $0[0].exp() }
        try checker.check([positive]) { $0[0].log() }
        try checker.check([spread]) { $0[0].abs() }
        try checker.check([spread]) { $0[0].relu() }
        try checker.check([spread]) { $0[0].clamp(min: -0.26, max: 0.31) }
        // sign has a zero gradient almost everywhere.
        try checker.check([spread]) { try $0[0].sign() * $0[0] }
    }

    func testMatmulAndLinear() throws {
        let a = parameter([4, 5], seed: 8), b = parameter([5, 3], seed: 9)
        try checker.check([a, b]) { try $0[0].matmul($0[1]) }
        let x = parameter([6, 5], seed: 10), w = parameter([3, 5], seed: 11), bias = parameter([3], seed: 12)
        try checker.check([x, w, bias]) { try linear($0[0], weight: $0[1], bias: $0[2]) }
        try checker.check([x, w]) { try linear($0[0], weight: $0[1], bias: nil) }
    }

    func testConvolution() throws {
        for (stride, padding, kernel) in [(1, 0, 3), (1, 1, 3), (2, 0, 3), (2, 1, 3), (1, 0, 1), (2, 0, 1), (1, 2, 5)] {
            let x = parameter([2, 3, 7, 6], seed: 13), w = parameter([4, 3, kernel, kernel], seed: 14)
            let b = parameter([4], seed: 15)
            try checker.check([x, w, b]) { try $0[0].conv2d(weight: $0[1], bias: $0[2], stride: stride, padding: padding) }
        }
    }

    /// Fewer output than input channels takes the transposed-convolution input gradient.
    func testConvolutionWithFewerOutputChannels() throws {
        for (stride, padding) in [(1, 1), (1, 0), (2, 1)] {
            let x = parameter([2, 5, 6, 7], seed: 30), w = parameter([3, 5, 3, 3], seed: 31)
            try checker.check([x, w]) { try $0[0].conv2d(weight: $0[1], stride: stride, padding: padding) }
        }
    }

    /// The kernels walk output columns in tiles: bands of rows of a large image, or several small
    /// images side by side. Tiny targets force bands of 1 and 2 rows on 7×6 images, a large one
    /// groups all images; every path (unfold, fold, pointwise, transposed) must give the same
    /// gradients.
    func testConvolutionInBandsAndGroups() throws {
        let saved = ColumnTiles.targetColumns
        defer { ColumnTiles.targetColumns = saved }
        // (out, in, kernel, stride, padding): row-shifted (3×3 and 5×5 keeping the size), strided,
        // unpadded, transposed input gradient (fewer outputs), pointwise.
        let cases = [(4, 3, 3, 1, 1), (3, 2, 5, 1, 2), (4, 3, 3, 2, 1), (4, 3, 3, 1, 0), (3, 5, 3, 1, 1), (4, 3, 1, 1, 0)]
        var reference: [Tensor] = []
        for target in [1000, 1, 13] {
            ColumnTiles.targetColumns = target
            for (index, (out, input, kernel, stride, padding)) in cases.enumerated() {
                let x = parameter([3, input, 7, 6], seed: 40), w = parameter([out, input, kernel, kernel], seed: 41)
                let b = parameter([out], seed: 42)
                try checker.check([x, w, b]) { try $0[0].conv2d(weight: $0[1], bias: $0[2], stride: stride, padding: padding) }
                let y = try x.conv2d(weight: w, bias: b, stride: stride, padding: padding)
                if target == 1000 { reference.append(y); continue }
                for i in 0..<y.count { XCTAssertEqual(y.pointer[i], reference[index].pointer[i], accuracy: 1e-5, "case \(index), target \(target)") }
            }
        }
    }

    /// At 2 threads, weights larger than a chunk's output (8 channels × 4 pixels per image, 4 chunks)
    /// take the whole-batch weight gradient (`BatchWeightGradient`): the same gradients as 1 thread.
    func testConvolutionWeightGradientOverTheWholeBatch() throws {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for (size, stride) in [(2, 1), (4, 2)] {
            let x = parameter([4, 3, size, size], seed: 43), w = parameter([8, 3, 3, 3], seed: 44)
            var results: [[Float]] = []
            for threads in [1, 2] {
                Parallel.threads = threads
                let geometry = try Conv2dGeometry(input: x.shape, weight: w.shape, stride: stride, padding: 1)
                let chunks = Parallel.chunkCount(4, piecesPerThread: Conv2d.piecesPerThread)
                XCTAssertEqual(BatchWeightGradient.applies(geometry, chunks: chunks), threads == 2)
                try checker.check([x, w]) { try $0[0].conv2d(weight: $0[1], stride: stride, padding: 1) }
                results.append(w.grad!.values + x.grad!.values)
            }
            for (a, b) in zip(results[0], results[1]) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(a))) }
        }
    }

    /// relu(conv(x) + b + r) as one op on every tile path (bands, groups, pointwise, strided):
    /// finite differences, and the same values and gradients as the separate ops. For the finite
    /// differences the residual keeps every pre-activation at least 1 from ReLU's kink (a step of
    /// 1e-2 across one flips the numeric gradient); the comparison with the separate ops, whose
    /// own gradients are checked above, covers the kinks and the op without a residual.
    func testConvolutionFusedWithReLU() throws {
        let saved = ColumnTiles.targetColumns
        defer { ColumnTiles.targetColumns = saved }
        let cases = [(4, 3, 3, 1, 1), (4, 3, 3, 2, 1), (4, 3, 1, 1, 0)]
        for target in [1000, 1, 13] {
            ColumnTiles.targetColumns = target
            for (out, input, kernel, stride, padding) in cases {
                let x = parameter([3, input, 7, 6], seed: 45), w = parameter([out, input, kernel, kernel], seed: 46)
                let b = parameter([out], seed: 47)
                let z = try withoutGradients { try x.conv2d(weight: w, bias: b, stride: stride, padding: padding) }
                let away = try Tensor(shape: z.shape, values: z.values.map { $0 >= 0 ? 1 : -1 })
                away.requiresGrad = true
                try checker.check([x, w, b, away]) {
                    try $0[0].conv2dReLU(weight: $0[1], bias: $0[2], stride: stride, padding: padding, adding: $0[3])
                }
                let r = parameter(z.shape, seed: 48)
                var generator = RandomGenerator(seed: 49)
                let seed = Tensor.normal(z.shape, generator: &generator)
                for residual in [r, nil] {
                    func run(_ f: () throws -> Tensor) throws -> [Float] {
                        for t in [x, w, b, r] { t.grad = nil }
                        let y = try f()
                        try y.backward(seed: seed)
                        return y.values + [x, w, b].flatMap { $0.grad!.values } + (residual == nil ? [] : r.grad!.values)
                    }
                    let fused = try run { try x.conv2dReLU(weight: w, bias: b, stride: stride, padding: padding, adding: residual) }
                    let separate = try run {
                        let y = try x.conv2d(weight: w, bias: b, stride: stride, padding: padding)
                        return try (residual.map { try y + $0 } ?? y).relu()
                    }
                    XCTAssertEqual(fused.count, separate.count)
                    for (a, e) in zip(fused, separate) { XCTAssertEqual(a, e, accuracy: 1e-5 * max(1, abs(e)), "target \(target)") }
                }
            }
        }
    }

    func testConvolutionMatchesDirectSum() throws {
        let x = parameter([2, 3, 6, 5], seed: 16), w = parameter([2, 3, 3, 3], seed: 17), b = parameter([2], seed: 18)
        for (stride, padding) in [(1, 1), (2, 1), (2, 0)] {
            let y = try x.conv2d(weight: w, bias: b, stride: stride, padding: padding)
            let (ho, wo) = (y.shape[2], y.shape[3])
            for n in 0..<2 { for o in 0..<2 { for i in 0..<ho { for j in 0..<wo {
                var s = b.pointer[o]
                for c in 0..<3 { for a in 0..<3 { for e in 0..<3 {
                    let (r, q) = (i * stride - padding + a, j * stride - padding + e)
                    if r >= 0 && r < 6 && q >= 0 && q < 5 {
                        s += x.pointer[((n * 3 + c) * 6 + r) * 5 + q] * w.pointer[((o * 3 + c) * 3 + a) * 3 + e]
                    }
                } } }
                XCTAssertEqual(y.pointer[((n * 2 + o) * ho + i) * wo + j], s, accuracy: 1e-5)
            } } } }
        }
    }

    func testPooling() throws {
        let x = spreadParameter([2, 3, 6, 6], seed: 19, gap: 0.03)
        try checker.check([x]) { try $0[0].maxPool2d(kernel: 2) }
        try checker.check([x]) { try $0[0].maxPool2d(kernel: 3, stride: 2, padding: 1) }
        try checker.check([x]) { try $0[0].avgPool2d(kernel: 2) }
        try checker.check([x]) { try $0[0].avgPool2d(kernel: 3, stride: 2, padding: 1) }
        try checker.check([x]) { try $0[0].globalAvgPool() }
    }

    func testBatchNormTrainingAndEvaluation() throws {
        let x = parameter([4, 3, 3, 2], seed: 20, low: -2, high: 2)
        let gamma = parameter([3], seed: 21, low: 0.5, high: 1.5), beta = parameter([3], seed: 22)
        for training in [true, false] {
            try checker.check([x, gamma, beta]) {
                let runningMean = try Tensor(shape: [3], values: [0.1, -0.2, 0.3])
                let runningVar = try Tensor(shape: [3], values: [1.5, 0.7, 1.1])
                return try $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: runningMean, runningVar: runningVar, training: training)
            }
        }
    }

    /// relu(bn(x) + r) as one op: its gradients (x, γ, β and the residual) by finite differences,
    /// and its values and gradients equal to the three separate ops'.
    func testBatchNormFusedWithReLU() throws {
        let x = parameter([4, 3, 3, 2], seed: 23, low: -2, high: 2)
        let gamma = parameter([3], seed: 24, low: 0.5, high: 1.5), beta = parameter([3], seed: 25)
        let residual = parameter([4, 3, 3, 2], seed: 26)
        func statistics() throws -> (Tensor, Tensor) {
            (try Tensor(shape: [3], values: [0.1, -0.2, 0.3]), try Tensor(shape: [3], values: [1.5, 0.7, 1.1]))
        }
        for training in [true, false] {
            try checker.check([x, gamma, beta]) {
                let (mean, variance) = try statistics()
                return try $0[0].batchNormReLU(weight: $0[1], bias: $0[2], runningMean: mean, runningVar: variance, training: training)
            }
            try checker.check([x, gamma, beta, residual]) {
                let (mean, variance) = try statistics()
                return try $0[0].batchNormReLU(weight: $0[1], bias: $0[2], runningMean: mean, runningVar: variance,
                                               training: training, adding: $0[3])
            }
            for adding in [nil, residual] {
                var generator = RandomGenerator(seed: 27)
                let seed = Tensor.normal(x.shape, generator: &generator)
                func gradients(_ f: () throws -> Tensor) throws -> [Float] {
                    for t in [x, gamma, beta, residual] { t.grad = nil }
                    let y = try f()
                    try y.backward(seed: seed)
                    return y.values + [x, gamma, beta].flatMap { $0.grad!.values } + (adding == nil ? [] : residual.grad!.values)
                }
                let (m1, v1) = try statistics(), (m2, v2) = try statistics()
                let fused = try gradients {
                    try x.batchNormReLU(weight: gamma, bias: beta, runningMean: m1, runningVar: v1, training: training, adding: adding)
                }
                let separate = try gradients {
                    let z = try x.batchNorm(weight: gamma, bias: beta, runningMean: m2, runningVar: v2, training: training)
                    return try (adding.map { try z + $0 } ?? z).relu()
                }
                XCTAssertEqual(fused.count, separate.count)
                for (a, b) in zip(fused, separate) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
                XCTAssertEqual(m1.values, m2.values)
                XCTAssertEqual(v1.values, v2.values)
            }
        }
    }

    func testShapeOps() throws {
        let x = parameter([2, 3, 4], seed: 23), y = parameter([2, 2, 4], seed: 24)
        try checker.check([x]) { try $0[0].reshaped([6, -1]) }
        try checker.check([x]) { try $0[0].flattened() }
        try checker.check([x]) { try $0[0].permuted([2, 0, 1]) }
        try checker.check([x]) { try $0[0].reshaped([6, 4]).transposed() }
        try checker.check([x, y]) { try Tensor.concat([$0[0], $0[1]], axis: 1) }
        try checker.check([x]) { try $0[0].slice(rows: 1..<2) }
    }

    func testReductions() throws {
        let x = parameter([2, 3, 4], seed: 25)
        try checker.check([x]) { $0[0].sum() }
        try checker.check([x]) { $0[0].mean() }
        try checker.check([x]) { try $0[0].sum(axes: [1]) }
        try checker.check([x]) { try $0[0].mean(axes: [0, 2], keepingDimensions: true) }
    }

    func testSoftmaxAndLosses() throws {
        let logits = parameter([5, 4], seed: 26, low: -3, high: 3)
        try checker.check([logits]) { try $0[0].logSoftmax() }
        try checker.check([logits]) { try $0[0].softmax() }
        try checker.check([logits]) { try $0[0].crossEntropy(labels: [0, 3, 1, 2, 3]) }
        let other = parameter([5, 4], seed: 27, low: -3, high: 3)
        // KL between two distributions made by the engine, gradients through both (as TRADES needs).
        try checker.check([logits, other]) { try klDivergence(logInput: $0[0].logSoftmax(), target: $0[1].softmax()) }
        try checker.check([logits, other]) { try meanSquaredError($0[0], $0[1]) }
        try checker.check([logits, other]) { try meanSquaredError($0[0], $0[1], reduction: .sum) }
    }
}

final class PoolingSemanticsTests: XCTestCase {
    /// The 2×2 fast path and the general loop agree, ties keep the first maximum, NaN propagates.
    func testMaxPoolTiesAndNaN() throws {
        let x = try Tensor(shape: [1, 1, 2, 4], values: [1, 3, 5, 5, 3, 2, 5, .nan])
        x.requiresGrad = true
        let fast = try x.maxPool2d(kernel: 2)
        XCTAssertEqual(fast.values[0], 3)
        XCTAssertTrue(fast.values[1].isNaN)
        let general = try x.maxPool2d(kernel: 2, stride: 2, padding: 1)  // general path, padded windows
        XCTAssertEqual(general.shape, [1, 1, 2, 3])
        try fast.backward(seed: Tensor(repeating: 1, shape: fast.shape))
        // The gradient goes to the first 3 (row-major) of the left window.
        XCTAssertEqual(Array(x.grad!.values[0..<2]) + [x.grad!.values[4]], [0, 1, 0])
        var g = RandomGenerator(seed: 4)
        let y = Tensor.normal([2, 3, 6, 8], generator: &g)
        let pooled = try y.maxPool2d(kernel: 2).values
        var expected: [Float] = []
        for plane in 0..<6 { for r in 0..<3 { for c in 0..<4 {
            let at = { (i: Int, j: Int) in y.pointer[plane * 48 + (2 * r + i) * 8 + 2 * c + j] }
            expected.append(max(max(at(0, 0), at(0, 1)), max(at(1, 0), at(1, 1))))
        } } }
        XCTAssertEqual(pooled, expected)
    }
}
