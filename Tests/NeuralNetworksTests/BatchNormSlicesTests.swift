import XCTest
import TensorEngine
@testable import NeuralNetworks

/// Batch-norm over slices (`statisticsSlices`) against its definition: each slice normalized by
/// a batch-norm of its own (the whole-batch op on that slice alone, as a replica runs it), the
/// gradients of the shared parameters summed, the running statistics averaged.
final class BatchNormSlicesTests: XCTestCase {
    let channels = 3
    /// 8 rows in 3 slices: 2, 3, 3 (the split `DataLoader.shard` makes of a batch of 8).
    let shape = [8, 3, 4, 4]

    func testSlicesMatchOneBatchNormPerSlice() throws {
        XCTAssertEqual((0..<3).map { BatchNorm2d.sliceRows($0, of: 3, count: 8) }, [0..<2, 2..<5, 5..<8])
        var g = RandomGenerator(seed: 17)
        let values = Tensor.uniform(shape, low: -2, high: 3, generator: &g).values
        let weights = Tensor.uniform(shape, generator: &g) // the loss is sum(y · weights)

        let sliced = makeNorm(slices: 3)
        let x = try leaf(values)
        try (sliced(x) * weights).sum().backward()

        var xGrads: [Float] = [], weightGrad = [Float](repeating: 0, count: channels), biasGrad = weightGrad
        var means = weightGrad, variances = weightGrad
        for index in 0..<3 {
            let rows = BatchNorm2d.sliceRows(index, of: 3, count: 8)
            let alone = makeNorm(slices: 1)
            let part = try leaf(values, rows: rows)
            try (alone(part) * weights.slice(rows: rows)).sum().backward()
            xGrads += part.grad!.values
            for c in 0..<channels {
                weightGrad[c] += alone.weight.grad!.values[c]; biasGrad[c] += alone.bias.grad!.values[c]
                means[c] += alone.runningMean.values[c] / 3; variances[c] += alone.runningVar.values[c] / 3
            }
        }
        assertClose(x.grad!.values, xGrads, "input gradient")
        assertClose(sliced.weight.grad!.values, weightGrad, "weight gradient")
        assertClose(sliced.bias.grad!.values, biasGrad, "bias gradient")
        assertClose(sliced.runningMean.values, means, "running mean")
        assertClose(sliced.runningVar.values, variances, "running variance")

        // Evaluation ignores the slices: the running statistics, row by row.
        sliced.eval()
        let evaluated = try withoutGradients { try sliced(Tensor(shape: shape, values: values)) }
        sliced.statisticsSlices = 1
        XCTAssertEqual(try withoutGradients { try sliced(Tensor(shape: shape, values: values)) }.values, evaluated.values)
    }

    /// ResNet's fused path: relu(bn(conv(x)) + residual), sliced, against the same per slice.
    func testFusedConvolutionPathSlicesTheResidualToo() throws {
        var g = RandomGenerator(seed: 23)
        let values = Tensor.uniform(shape, low: -1, high: 1, generator: &g).values
        let residualValues = Tensor.uniform(shape, low: -1, high: 1, generator: &g).values
        var convGenerator = RandomGenerator(seed: 5)
        let conv = Conv2d(channels, channels, kernel: 3, padding: 1, bias: false, generator: &convGenerator)

        let sliced = makeNorm(slices: 3)
        let x = try leaf(values), residual = try leaf(residualValues)
        let y = try sliced.foldingReLU(conv, x, adding: residual)
        try y.sum().backward()
        let convGrad = conv.weight.grad!.values
        conv.weight.grad = nil

        var outputs: [Float] = [], residualGrads: [Float] = []
        for index in 0..<3 {
            let rows = BatchNorm2d.sliceRows(index, of: 3, count: 8)
            let alone = makeNorm(slices: 1)
            let part = try leaf(values, rows: rows)
            let residualPart = try leaf(residualValues, rows: rows)
            let out = try alone.foldingReLU(conv, part, adding: residualPart)
            try out.sum().backward()
            outputs += out.values
            residualGrads += residualPart.grad!.values
        }
        assertClose(y.values, outputs, "output")
        assertClose(residual.grad!.values, residualGrads, "residual gradient")
        assertClose(convGrad, conv.weight.grad!.values, "convolution weight gradient (summed over slices)")
    }

    func testEverySliceOfAModelIsSet() throws {
        let description = ModelDescription(name: "resnet8", numClasses: 4, inputShape: [3, 8, 8], mean: [0, 0, 0], std: [1, 1, 1])
        let model = try ModelZoo.make(description, seed: 0)
        model.normalizeBatchesInSlices(3)
        let norms = model.allModules.compactMap { $0 as? BatchNorm2d }
        XCTAssertFalse(norms.isEmpty)
        XCTAssertTrue(norms.allSatisfy { $0.statisticsSlices == 3 })
    }

    // MARK: Helpers

    /// A batch-norm with non-trivial γ, β and running statistics, the same every call.
    func makeNorm(slices: Int) -> BatchNorm2d {
        let norm = BatchNorm2d(channels)
        for c in 0..<channels {
            norm.weight.pointer[c] = 1 + 0.25 * Float(c)
            norm.bias.pointer[c] = 0.1 * Float(c) - 0.1
            norm.runningMean.pointer[c] = 0.5 * Float(c)
            norm.runningVar.pointer[c] = 1 + Float(c)
        }
        norm.statisticsSlices = slices
        norm.train()
        return norm
    }

    /// A tensor that takes gradients: the batch, or only the given rows of it.
    func leaf(_ values: [Float], rows: Range<Int>? = nil) throws -> Tensor {
        let rows = rows ?? 0..<shape[0], rowSize = values.count / shape[0]
        let t = try Tensor(shape: [rows.count] + shape.dropFirst(), values: Array(values[rows.lowerBound * rowSize ..< rows.upperBound * rowSize]))
        t.requiresGrad = true
        return t
    }

    func assertClose(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        for (i, (u, v)) in zip(a, b).enumerated() where abs(u - v) > 1e-5 * max(1, abs(v)) {
            return XCTFail("\(what)[\(i)]: \(u) vs \(v)", file: file, line: line)
        }
    }
}
