import XCTest
@testable import TensorEngine

/// Which strategy `Conv2dPlan` picks for the layer shapes of resnet20 (32×32, batch 128) and
/// resnet18 (64×64, batch 64) with Winograd off (WinogradConvTests covers it): the choices
/// docs/ARCHITECTURE.md describes. That each strategy
/// computes the right numbers is OpGradientTests' job.
final class Conv2dPlanTests: XCTestCase {
    func plan(_ input: [Int], _ weight: [Int], stride: Int, padding: Int, threads: Int,
              options: Conv2dPlan.Options = Conv2dPlan.Options(winograd: .off)) throws -> Conv2dPlan {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = threads
        let geo = try Conv2dGeometry(input: input, weight: weight, stride: stride, padding: padding)
        let w = Storage(count: weight.reduce(1, *))
        return Conv2dPlan(geo, weight: w.pointer, parts: [.output, .inputGradient, .weightGradient], options: options)
    }

    func testSizeKeepingThreeByThreeIsRowShifted() throws {
        for threads in [1, 2] {
            let p = try plan([128, 16, 32, 32], [16, 16, 3, 3], stride: 1, padding: 1, threads: threads)
            XCTAssert(p.output is RowShiftedForward)
            guard case .transposed(let transposed)? = p.inputGradient else { return XCTFail("input gradient \(String(describing: p.inputGradient))") }
            XCTAssert(transposed.forward is RowShiftedForward)
            guard case .rowShifted? = p.weightGradient else { return XCTFail("weight gradient \(String(describing: p.weightGradient))") }
        }
    }

    func testStridedConvolutionUnfoldsAndFolds() throws {
        let p = try plan([128, 16, 32, 32], [32, 16, 3, 3], stride: 2, padding: 1, threads: 2)
        XCTAssert(p.output is Im2colForward)
        guard case .fold? = p.inputGradient else { return XCTFail("input gradient \(String(describing: p.inputGradient))") }
        guard case .chunkPartials? = p.weightGradient else { return XCTFail("weight gradient \(String(describing: p.weightGradient))") }
    }

    func testPointwise() throws {
        let p = try plan([128, 32, 16, 16], [64, 32, 1, 1], stride: 1, padding: 0, threads: 1)
        XCTAssert(p.output is PointwiseForward)
        guard case .pointwise? = p.inputGradient else { return XCTFail("input gradient \(String(describing: p.inputGradient))") }
        guard case .chunkPartials? = p.weightGradient else { return XCTFail("weight gradient \(String(describing: p.weightGradient))") }
    }

    /// A stem with more outputs than inputs folds: unfolding g would write more rows than folding.
    func testStemFolds() throws {
        let p = try plan([128, 3, 32, 32], [16, 3, 3, 3], stride: 1, padding: 1, threads: 1)
        guard case .fold? = p.inputGradient else { return XCTFail("input gradient \(String(describing: p.inputGradient))") }
    }

    /// resnet18's layer4 at 64×64 (2×2 maps): every tile holds several images, so no row-shifted
    /// weights are made; at 2 threads its weights outweigh a chunk's output (batch-wide gradient).
    func testDeepLayerOfResNet18() throws {
        for threads in [1, 2] {
            let p = try plan([64, 512, 2, 2], [512, 512, 3, 3], stride: 1, padding: 1, threads: threads)
            XCTAssert(p.output is Im2colForward)
            switch (threads, p.weightGradient) {
            case (1, .chunkPartials?), (2, .batchWide?): break
            default: XCTFail("\(threads) threads: weight gradient \(String(describing: p.weightGradient))")
            }
        }
    }

    /// Only the parts asked for are planned.
    func testPartsNotAskedForAreAbsent() throws {
        let geo = try Conv2dGeometry(input: [8, 16, 8, 8], weight: [16, 16, 3, 3], stride: 1, padding: 1)
        let w = Storage(count: 16 * 16 * 9)
        let forwardOnly = Conv2dPlan(geo, weight: w.pointer, parts: .output, options: .init(winograd: .off))
        XCTAssertNotNil(forwardOnly.output)
        XCTAssertNil(forwardOnly.inputGradient)
        XCTAssertNil(forwardOnly.weightGradient)
        let inputOnly = Conv2dPlan(geo, weight: w.pointer, parts: .inputGradient)
        XCTAssertNil(inputOnly.output)
        XCTAssertNotNil(inputOnly.inputGradient)
        XCTAssertFalse(inputOnly.walksOutputTiles)
    }
}
