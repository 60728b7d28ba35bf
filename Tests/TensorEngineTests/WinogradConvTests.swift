import XCTest
@testable import TensorEngine

/// Winograd F(2×2, 3×3) (`WinogradConv`): gradients by finite differences, and its output and
/// input gradient against the direct (row-shifted/im2col) result on resnet's layer shapes.
final class WinogradConvTests: XCTestCase {
    let checker = GradientChecker()

    /// Runs `body` with Winograd forced on or off, restoring the setting.
    func with<T>(_ use: WinogradConv.Use, blockFloats: Int? = nil, _ body: () throws -> T) rethrows -> T {
        let (savedUse, savedBlock) = (WinogradConv.Use.current, WinogradConv.blockFloats)
        defer { (WinogradConv.Use.current, WinogradConv.blockFloats) = (savedUse, savedBlock) }
        WinogradConv.Use.current = use
        if let blockFloats { WinogradConv.blockFloats = blockFloats }
        return try body()
    }

    func testPlanTakesWinogradOnlyWhereAsked() throws {
        let geo = try Conv2dGeometry(input: [8, 64, 16, 16], weight: [64, 64, 3, 3], stride: 1, padding: 1)
        let w = Storage(count: 64 * 64 * 9)
        for (use, expected) in [(WinogradConv.Use.off, false), (.on, true)] {
            let plan = Conv2dPlan(geo, weight: w.pointer, parts: [.output, .inputGradient], options: .init(winograd: use))
            XCTAssertEqual(plan.output is WinogradConv, expected, "\(use)")
            guard case .transposed(let transposed)? = plan.inputGradient else { return XCTFail("no transposed input gradient") }
            XCTAssertEqual(transposed.forward is WinogradConv, expected, "\(use): input gradient")
        }
        // Strided, unpadded and 5×5 convolutions never take it.
        for (kernel, stride, padding) in [(3, 2, 1), (3, 1, 0), (5, 1, 2)] {
            let other = try Conv2dGeometry(input: [8, 64, 16, 16], weight: [64, 64, kernel, kernel], stride: stride, padding: padding)
            XCTAssertFalse(WinogradConv.chosen(for: other, .on), "\(kernel)×\(kernel)/\(stride) padding \(padding)")
        }
    }

    /// Finite differences through the Winograd forward and its transposed input gradient (O ≤ C),
    /// on odd and even sizes (partial 2×2 tiles at the edges), with blocks cut across rows and
    /// images, and fused with bias, residual and ReLU.
    func testGradientsByFiniteDifferences() throws {
        for blockFloats in [1 << 18, 16 * 8 * 3] {
            try with(.on, blockFloats: blockFloats) {
                for (out, input, height, width) in [(4, 3, 7, 6), (3, 5, 6, 7), (5, 5, 5, 5)] {
                    let x = parameter([3, input, height, width], seed: 60), w = parameter([out, input, 3, 3], seed: 61)
                    let b = parameter([out], seed: 62)
                    try checker.check([x, w, b]) { try $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 1, padding: 1) }
                    // The residual keeps pre-activations away from ReLU's kink (see OpGradientTests).
                    let z = try withoutGradients { try x.conv2d(weight: w, bias: b, stride: 1, padding: 1) }
                    let away = try Tensor(shape: z.shape, values: z.values.map { $0 >= 0 ? 1 : -1 })
                    away.requiresGrad = true
                    try checker.check([x, w, b, away]) {
                        try $0[0].conv2dReLU(weight: $0[1], bias: $0[2], stride: 1, padding: 1, adding: $0[3])
                    }
                }
            }
        }
    }

    /// Block size does not change a single float: each tile's sums run in the same order.
    func testBlocksDoNotChangeTheResult() throws {
        let x = parameter([3, 8, 9, 10], seed: 63), w = parameter([8, 8, 3, 3], seed: 64)
        let whole = try with(.on) { try withoutGradients { try x.conv2d(weight: w, padding: 1) } }
        let cut = try with(.on, blockFloats: 16 * 16 * 7) { try withoutGradients { try x.conv2d(weight: w, padding: 1) } }
        XCTAssertEqual(whole.values, cut.values)
    }

    /// Output and input gradient against the direct convolution on the 3×3 stride-1 layers of
    /// resnet20 (32×32) and resnet18 (64×64), with He-initialised weights and ReLU'd inputs of
    /// unit scale. Tolerance: max |winograd − direct| ≤ 2e-6 · max |direct| per tensor
    /// (measured worst: see docs/ARCHITECTURE.md, "Winograd").
    func testErrorAgainstTheDirectConvolution() throws {
        let layers = [(16, 32), (32, 16), (64, 8), (64, 16), (128, 8), (256, 4), (512, 2)]
        for (channels, size) in layers {
            var generator = RandomGenerator(seed: UInt64(channels * 100 + size))
            let x = Tensor.normal([4, channels, size, size], generator: &generator).relu()
            x.requiresGrad = true
            let w = Tensor.normal([channels, channels, 3, 3], std: (2 / Float(channels * 9)).squareRoot(), generator: &generator)
            let seed = Tensor.normal([4, channels, size, size], generator: &generator)
            func run(_ use: WinogradConv.Use) throws -> (output: [Float], inputGradient: [Float]) {
                try with(use) {
                    x.grad = nil
                    let y = try x.conv2d(weight: w, padding: 1)
                    try y.backward(seed: seed)
                    return (y.values, x.grad!.values)
                }
            }
            let (direct, winograd) = (try run(.off), try run(.on))
            for (name, d, v) in [("output", direct.output, winograd.output), ("input gradient", direct.inputGradient, winograd.inputGradient)] {
                let scale = d.map(abs).max()!
                let worst = zip(d, v).map { abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(worst, 2e-6 * scale, "\(channels) channels at \(size)×\(size), \(name): max error \(worst), scale \(scale)")
            }
        }
    }
}
