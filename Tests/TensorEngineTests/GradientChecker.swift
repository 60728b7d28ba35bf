import XCTest
@testable import TensorEngine

/// Finite-difference gradient checks: the analytic gradient of L = Σ f(inputs) · R (R a fixed
/// random projection) against central differences evaluated in Double.
struct GradientChecker {
    var step: Float = 1e-2
    var relativeTolerance: Float = 1e-2
    var absoluteTolerance: Float = 2e-3
    /// Elements checked per input (all when the input is smaller).
    var samplesPerInput = 48

    func check(_ inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line,
               _ f: ([Tensor]) throws -> Tensor) throws {
        for t in inputs where !t.requiresGrad { XCTFail("mark the inputs to check requiresGrad", file: file, line: line) }
        let output = try f(inputs)
        var generator = RandomGenerator(seed: 99, stream: "projection")
        let projection = Tensor.normal(output.shape, generator: &generator)
        for t in inputs { t.grad = nil }
        try output.backward(seed: projection)

        func loss() throws -> Double {
            let y = try withoutGradients { try f(inputs) }
            var total = 0.0
            for i in 0..<y.count { total += Double(y.pointer[i]) * Double(projection.pointer[i]) }
            return total
        }

        for (index, t) in inputs.enumerated() {
            guard let analytic = t.grad else {
                XCTFail("input \(index) \(t.shape) received no gradient", file: file, line: line)
                continue
            }
            XCTAssertEqual(analytic.shape, t.shape, file: file, line: line)
            var picker = RandomGenerator(seed: UInt64(index), stream: "elements")
            let elements = t.count <= samplesPerInput ? Array(0..<t.count) : (0..<samplesPerInput).map { _ in picker.nextInt(below: t.count) }
            for i in elements {
                let saved = t.pointer[i]
                t.pointer[i] = saved + step
                let plus = try loss()
                t.pointer[i] = saved - step
                let minus = try loss()
                t.pointer[i] = saved
                let numeric = Float((plus - minus) / Double(2 * step))
                let a = analytic.pointer[i]
                let allowed = absoluteTolerance + relativeTolerance * max(abs(a), abs(numeric))
                if abs(a - numeric) > allowed {
                    XCTFail("input \(index) \(t.shape) element \(i): analytic \(a), numeric \(numeric)", file: file, line: line)
                    return
                }
            }
        }
    }
}

/// Seeded test tensors that require a gradient.
func parameter(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var g = RandomGenerator(seed: seed)
    let t = Tensor.uniform(shape, low: low, high: high, generator: &g)
    t.requiresGrad = true
    return t
}

/// Values at least `gap` apart after shuffling, so max-pool and ReLU kinks are never crossed by a step.
func spreadParameter(_ shape: [Int], seed: UInt64, gap: Float = 0.05, centered: Bool = true) -> Tensor {
    let n = shape.reduce(1, *)
    var g = RandomGenerator(seed: seed)
    var values = (0..<n).map { Float($0) * gap - (centered ? Float(n) * gap / 2 + gap / 2 : 0) }
    values.shuffle(using: &g)
    let t = try! Tensor(shape: shape, values: values)
    t.requiresGrad = true
    return t
}
