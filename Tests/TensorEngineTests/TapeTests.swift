import XCTest
@testable import TensorEngine

final class TapeTests: XCTestCase {
    func testGradientsAccumulateAcrossBackwardCalls() throws {
        let x = try Tensor(shape: [3], values: [1, 2, 3])
        x.requiresGrad = true
        try (x * x).sum().backward()
        try (x * 3).sum().backward()
        XCTAssertEqual(x.grad?.values, [2 + 3, 4 + 3, 6 + 3])
        x.zeroGrad()
        XCTAssertNil(x.grad)
    }

    func testSharedIntermediateReceivesBothGradients() throws {
        // y = x·x used twice: d/dx (y + 2y) = 3 · 2x
        let x = try Tensor(shape: [2], values: [1, -2])
        x.requiresGrad = true
        let y = try x * x
        try (y + y * 2).sum().backward()
        XCTAssertEqual(x.grad?.values, [6, -12])
    }

    func testNoGradModeRecordsNothing() throws {
        let x = try Tensor(shape: [2], values: [1, 2])
        x.requiresGrad = true
        let y = try withoutGradients { try x * x }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertThrowsError(try y.sum().backward())
        XCTAssertTrue(try (x * x).requiresGrad, "recording resumes after the block")
    }

    func testInputGradientLeavesFrozenParametersAlone() throws {
        let w = try Tensor(shape: [2], values: [3, 4])  // frozen: requiresGrad false
        let x = try Tensor(shape: [2], values: [1, 1])
        x.requiresGrad = true
        let g = try gradients(of: (x * w).sum(), withRespectTo: [x])[0]
        XCTAssertEqual(g.values, [3, 4])
        XCTAssertNil(w.grad)
        XCTAssertNil(x.grad, "gradients(of:) restores the input's own .grad")
    }

    func testBackwardNeedsAScalarOrSeed() throws {
        let x = try Tensor(shape: [2], values: [1, 2])
        x.requiresGrad = true
        XCTAssertThrowsError(try (x * 2).backward())
        try (x * 2).backward(seed: Tensor(repeating: 1, shape: [2]))
        XCTAssertEqual(x.grad?.values, [2, 2])
    }
}

final class NaNPropagationTests: XCTestCase {
    /// NaN is never hidden: ReLU and max-pool pass it on, so a bad loss is seen as NaN.
    func testReLUAndMaxPoolPropagateNaN() throws {
        let x = try Tensor(shape: [1, 1, 2, 2], values: [.nan, -1, 2, 0])
        XCTAssertTrue(x.relu().values[0].isNaN)
        XCTAssertEqual(Array(x.relu().values[1...]), [0, 2, 0])
        XCTAssertTrue(try x.maxPool2d(kernel: 2).values[0].isNaN)
    }
}

final class ShapeErrorTests: XCTestCase {
    func testMismatchNamesBothShapes() {
        let a = Tensor(zeros: [2, 3]), b = Tensor(zeros: [4, 3])
        XCTAssertThrowsError(try a + b) { error in
            guard let e = error as? TensorError, case .shapeMismatch = e else { return XCTFail("\(error)") }
            XCTAssertTrue(e.description.contains("[2, 3]") && e.description.contains("[4, 3]"), e.description)
        }
        XCTAssertThrowsError(try a.matmul(b)) { XCTAssertTrue("\($0)".contains("[2, 3] and [4, 3]"), "\($0)") }
        XCTAssertThrowsError(try Tensor(zeros: [1, 3, 8, 8]).conv2d(weight: Tensor(zeros: [4, 2, 3, 3]))) {
            XCTAssertTrue("\($0)".contains("[1, 3, 8, 8]") && "\($0)".contains("[4, 2, 3, 3]"), "\($0)")
        }
        XCTAssertThrowsError(try Tensor(zeros: [2, 3]).crossEntropy(labels: [0, 5])) { XCTAssertTrue("\($0)".contains("label 5")) }
        XCTAssertThrowsError(try Tensor(zeros: [6]).reshaped([4, -1]))
        XCTAssertThrowsError(try Tensor(shape: [2, 2], values: [1, 2, 3]))
    }
}

final class BatchNormSemanticsTests: XCTestCase {
    func testRunningStatisticsFollowPyTorch() throws {
        // One channel, values 1..4: mean 2.5, biased var 1.25, unbiased var 5/3.
        let x = try Tensor(shape: [4, 1, 1, 1], values: [1, 2, 3, 4])
        let mean = Tensor(zeros: [1]), variance = Tensor(repeating: 1, shape: [1])
        let y = try x.batchNorm(weight: Tensor(repeating: 1, shape: [1]), bias: Tensor(zeros: [1]),
                                runningMean: mean, runningVar: variance, training: true, momentum: 0.1)
        XCTAssertEqual(mean.item, 0.25, accuracy: 1e-6)
        XCTAssertEqual(variance.item, 0.9 + 0.1 * 5 / 3, accuracy: 1e-6)
        XCTAssertEqual(y.values[0], (1 - 2.5) / (1.25 + 1e-5).squareRoot(), accuracy: 1e-5)
        // Evaluation uses the running statistics and leaves them alone.
        let z = try x.batchNorm(weight: Tensor(repeating: 2, shape: [1]), bias: Tensor(repeating: 1, shape: [1]),
                                runningMean: mean, runningVar: variance, training: false)
        XCTAssertEqual(z.values[3], 2 * (4 - 0.25) / (variance.item + 1e-5).squareRoot() + 1, accuracy: 1e-5)
        XCTAssertEqual(mean.item, 0.25, accuracy: 1e-6)
    }
}

final class RandomGeneratorTests: XCTestCase {
    func testSameSeedSameBits() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42), c = RandomGenerator(seed: 43)
        let xs = (0..<100).map { _ in a.next() }
        XCTAssertEqual(xs, (0..<100).map { _ in b.next() })
        XCTAssertNotEqual(xs, (0..<100).map { _ in c.next() })
        var s1 = RandomGenerator(seed: 42, stream: "layer1"), s2 = RandomGenerator(seed: 42, stream: "layer2")
        XCTAssertNotEqual(s1.next(), s2.next())
    }

    func testDistributions() {
        var g = RandomGenerator(seed: 7)
        let u = Tensor.uniform([20000], low: -1, high: 3, generator: &g).values
        XCTAssertTrue(u.allSatisfy { $0 >= -1 && $0 < 3 })
        XCTAssertEqual(u.reduce(0, +) / 20000, 1, accuracy: 0.03)
        let n = Tensor.normal([20000], mean: 2, std: 0.5, generator: &g).values
        let mean = n.reduce(0, +) / 20000
        let std = (n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 20000).squareRoot()
        XCTAssertEqual(mean, 2, accuracy: 0.02)
        XCTAssertEqual(std, 0.5, accuracy: 0.02)
        // Kaiming uniform with a = √5: bound = 1/√fan_in.
        let k = Tensor.kaimingUniform([64, 9], fanIn: 9, generator: &g).values
        XCTAssertLessThanOrEqual(k.map(abs).max()!, 1 / 3 + 1e-6)
        XCTAssertGreaterThan(k.map(abs).max()!, 0.3)
    }
}

final class GradientFinalHookTests: XCTestCase {
    /// The hook fires once per leaf, after the last op that adds to its gradient: the value it
    /// sees is the final one, even for a leaf used by several ops.
    func testHookSeesEveryLeafOnceWithItsFinalGradient() throws {
        let a = try Tensor(shape: [2], values: [1, 2]), b = try Tensor(shape: [2], values: [3, 4])
        let frozen = try Tensor(shape: [2], values: [5, 6])
        a.requiresGrad = true
        b.requiresGrad = true
        let loss = try ((a * b) + (a * a) + (b * frozen)).sum()
        var seen: [(ObjectIdentifier, [Float])] = []
        try loss.backward(onGradientFinal: { seen.append((ObjectIdentifier($0), $0.grad!.values)) })
        XCTAssertEqual(seen.count, 2)
        XCTAssertEqual(Set(seen.map(\.0)), [ObjectIdentifier(a), ObjectIdentifier(b)])
        for (id, values) in seen {
            XCTAssertEqual(values, id == ObjectIdentifier(a) ? a.grad!.values : b.grad!.values, "final when reported")
        }
        XCTAssertEqual(a.grad!.values, [3 + 2, 4 + 4])
    }
}
