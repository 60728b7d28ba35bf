import Foundation
@testable import Robustness
import TensorEngine
import XCTest

/// rt's corruptions against scripts/reference/corruptions_reference.py, an independent NumPy /
/// SciPy / PIL implementation written from Hendrycks & Dietterich's published code with CIFAR-10-C's
/// parameters, on the fixed gray 28×28 and RGB 32×32 test images at every severity. Random
/// corruptions hand their draws to the script (the formula is compared, not the generators); shot
/// noise is compared in distribution. Skipped without a Python that imports numpy, scipy and PIL.
final class CorruptionReferenceTests: XCTestCase {
    /// Largest |rt − reference| allowed per kind, in pixel units (values in [0, 1]).
    static func tolerance(_ kind: CorruptionKind) -> Double {
        switch kind {
        // PIL's box resampling rounds to 8 bits after each of its two passes, and twice per
        // pixelation; rt keeps floats.
        case .pixelate: return 2.5 / 255
        // Both through libjpeg (PIL bundles its own build): the decoded bytes may differ by a level.
        case .jpegCompression: return 1.0 / 255 + 1e-6
        // float32 arithmetic against float64.
        default: return 2e-5
        }
    }

    func testCorruptionsAgreeWithTheReference() throws {
        let python = try CorruptionReference.python()
        var cases: [[String: Any]] = []
        var ours: [(kind: CorruptionKind, channels: Int, severity: Int, pixels: [Float])] = []
        for (channels, side) in CorruptionImages.shapes {
            let clean = CorruptionImages.image(channels: channels, side: side)
            for kind in CorruptionKind.applicable(toChannels: channels) where kind != .shotNoise {
                for severity in CorruptionKind.severities {
                    let spec = CorruptionSpec(kind: kind, severity: severity, seed: 21)
                    var image = clean
                    try spec.apply(&image, example: severity)
                    ours.append((kind, channels, severity, image.pixels))
                    cases.append(CorruptionReference.input(clean, kind: kind, severity: severity,
                                                           draws: Self.draws(spec, clean, example: severity)))
                }
            }
        }
        let outputs = try CorruptionReference.run(python, cases)
        var worst: [CorruptionKind: (max: Double, sum: Double, count: Int)] = [:]
        for (item, output) in zip(ours, outputs) {
            let reference = try XCTUnwrap(output as? [Double])
            XCTAssertEqual(reference.count, item.pixels.count)
            let differences = zip(item.pixels, reference).map { abs(Double($0) - $1) }
            let largest = differences.max() ?? 0
            var w = worst[item.kind] ?? (0, 0, 0)
            w = (max(w.max, largest), w.sum + differences.reduce(0, +), w.count + differences.count)
            worst[item.kind] = w
            XCTAssertLessThanOrEqual(largest, Self.tolerance(item.kind),
                                     "\(item.kind.rawValue) severity \(item.severity) on \(item.channels) channels: max |rt − reference| \(largest)")
        }
        for kind in CorruptionKind.allCases {
            guard let w = worst[kind] else { continue }
            print(String(format: "corruption reference %@: max |diff| %.3g (%.2f/255), mean %.3g", kind.rawValue, w.max, w.max * 255, w.sum / Double(w.count)))
        }
    }

    /// Shot noise: the mean of rt's Poisson(c·x)/c over 400 examples per pixel against the exact
    /// mean from the Poisson pmf, within 5 standard errors (a fixed seed: the same draws every run).
    func testShotNoiseMatchesThePoissonMeanPerPixel() throws {
        let python = try CorruptionReference.python()
        let examples = 400
        for channels in [1, 3] {
            let clean = CorruptionImages.image(channels: channels, side: 6)
            let severities = [1, 5]
            let outputs = try CorruptionReference.run(python, severities.map { CorruptionReference.input(clean, kind: .shotNoise, severity: $0, draws: [:]) })
            for (severity, output) in zip(severities, outputs) {
                let moments = try XCTUnwrap(output as? [String: [Double]])
                let (mean, std) = (try XCTUnwrap(moments["mean"]), try XCTUnwrap(moments["std"]))
                var sums = [Double](repeating: 0, count: clean.pixels.count)
                for example in 0..<examples {
                    let noisy = try CorruptionImages.corrupted(.shotNoise, severity: severity, clean, example: example, seed: 5)
                    for (i, v) in noisy.pixels.enumerated() { sums[i] += Double(v) }
                }
                var largest = 0.0
                for i in sums.indices {
                    let error = abs(sums[i] / Double(examples) - mean[i])
                    largest = max(largest, error / max(std[i] / Double(examples).squareRoot(), 1e-9))
                    XCTAssertLessThanOrEqual(error, 5 * std[i] / Double(examples).squareRoot() + 1e-6, "severity \(severity), value \(i)")
                }
                print(String(format: "corruption reference shot_noise severity %d, %d channels: largest mean error %.2f standard errors", severity, channels, largest))
            }
        }
    }

    /// The random numbers `spec` draws for this example, in the names the script reads.
    static func draws(_ spec: CorruptionSpec, _ image: CorruptionImage, example: Int) -> [String: Any] {
        var generator = spec.generator(example: example)
        let count = image.pixels.count
        switch spec.kind {
        case .gaussianNoise, .speckleNoise:
            return ["normals": (0..<count).map { _ in Double(generator.nextNormal()) }]
        case .impulseNoise:
            var flip: [Double] = [], salt: [Double] = []
            for _ in 0..<count { flip.append(Double(generator.nextUniform())); salt.append(Double(generator.nextUniform())) }
            return ["flip": flip, "salt": salt]
        case .motionBlur:
            return ["angle": -45 + 90 * PoissonSampler.uniform(&generator)]
        case .elasticTransform:
            let p = CorruptionSeverity.elasticTransform[spec.severity - 1]
            let side = Double(min(image.height, image.width))
            let d = ElasticTransform.draw(height: image.height, width: image.width, affine: p.affine * side, withField: p.alpha > 0, &generator)
            return ["affine": d.affine, "dx": d.dx, "dy": d.dy]
        default:
            return [:]
        }
    }
}

/// Finding a Python with numpy, scipy and PIL, and running the reference script on JSON cases.
enum CorruptionReference {
    static func python() throws -> String {
        var candidates = [ProcessInfo.processInfo.environment["RT_CORRUPTIONS_PYTHON"]].compactMap { $0 }
        var roots = [TorchReference.repository]
        if let common = try? TorchReference.run("/usr/bin/git", ["-C", TorchReference.repository.path, "rev-parse", "--path-format=absolute", "--git-common-dir"]) {
            roots.append(URL(fileURLWithPath: common.trimmingCharacters(in: .whitespacesAndNewlines)).deletingLastPathComponent())
        }
        for root in roots {
            candidates += [".venv-corruptions", ".venv-torch"].map { root.appendingPathComponent("\($0)/bin/python").path }
        }
        candidates.append("/usr/bin/python3")
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            if (try? TorchReference.run(candidate, ["-c", "import numpy, scipy, PIL"])) != nil { return candidate }
        }
        throw XCTSkip("no Python imports numpy, scipy and PIL ($RT_CORRUPTIONS_PYTHON, .venv-corruptions, .venv-torch); "
                      + "run scripts/reference/setup_corruptions.sh")
    }

    static func input(_ image: CorruptionImage, kind: CorruptionKind, severity: Int, draws: [String: Any]) -> [String: Any] {
        ["kind": kind.rawValue, "severity": severity, "channels": image.channels, "height": image.height, "width": image.width,
         "pixels": image.pixels.map(Double.init), "draws": draws]
    }

    static func run(_ python: String, _ cases: [[String: Any]]) throws -> [Any] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-corruption-ref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (input, output) = (directory.appendingPathComponent("in.json"), directory.appendingPathComponent("out.json"))
        try JSONSerialization.data(withJSONObject: ["cases": cases]).write(to: input)
        try TorchReference.run(python, [TorchReference.script("corruptions_reference.py"), input.path, output.path])
        let decoded = try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any]
        return try XCTUnwrap(decoded?["outputs"] as? [Any])
    }
}
