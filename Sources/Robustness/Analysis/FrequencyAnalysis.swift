import Datasets
import NeuralNetworks
import TensorEngine

/// Which frequencies a model relies on (Wang et al. 2020, "High-frequency component helps explain
/// the generalization of CNNs"): accuracy on images keeping only frequencies inside (low-pass) or
/// outside (high-pass) a radius, and where adversarial perturbations put their energy.
///
/// Filtered images are the real part of the inverse transform, *not* clipped to [0, 1]: a
/// high-pass image is centred on 0, and clipping would remove half of it.
public enum FrequencyAnalysis {
    public struct FilteredAccuracy: Sendable, Codable, Equatable {
        public var radius: Double
        public var accuracy: Double
    }

    public struct Report: Sendable, Codable, Equatable {
        public var cleanAccuracy: Double
        public var examples: Int
        public var lowPass: [FilteredAccuracy]
        public var highPass: [FilteredAccuracy]
        /// Mean power |DFT(δ)|² of the adversarial perturbations per integer radius 0, 1, ...; nil without an attack.
        public var perturbationSpectrum: [Double]?

        enum CodingKeys: String, CodingKey {
            case examples
            case cleanAccuracy = "clean_accuracy", lowPass = "low_pass", highPass = "high_pass"
            case perturbationSpectrum = "perturbation_spectrum"
        }
    }

    public enum Pass { case low, high }

    /// Keeps frequencies with radius ≤ r (low) or > r (high) in every channel of every image.
    public static func filter(_ images: Tensor, radius: Double, pass: Pass) -> Tensor {
        ImageSpectrum(images).filtered(radius: radius, pass: pass)
    }

    /// Adds the power of every channel of `perturbations` (N, C, H, W) to `bins` by integer radius;
    /// returns how many planes were added.
    @discardableResult
    public static func accumulateRadialPower(_ perturbations: Tensor, into bins: inout [Double]) -> Int {
        let (h, w) = (perturbations.shape[2], perturbations.shape[3])
        let dft = DiscreteFourierTransform2D(height: h, width: w)
        if bins.count < dft.maximumRadiusBin + 1 { bins += [Double](repeating: 0, count: dft.maximumRadiusBin + 1 - bins.count) }
        var counts = [Int](repeating: 0, count: bins.count)
        for ky in 0..<h { for kx in 0..<w { counts[Int(dft.radius(ky, kx).rounded())] += 1 } }
        let planes = perturbations.count / (h * w)
        var re = [Double](repeating: 0, count: h * w), im = re
        for plane in 0..<planes {
            let src = perturbations.pointer + plane * h * w
            for i in 0..<h * w { (re[i], im[i]) = (Double(src[i]), 0) }
            dft.transform(&re, &im, inverse: false)
            for ky in 0..<h {
                for kx in 0..<w {
                    let bin = Int(dft.radius(ky, kx).rounded())
                    bins[bin] += (re[ky * w + kx] * re[ky * w + kx] + im[ky * w + kx] * im[ky * w + kx]) / Double(counts[bin])
                }
            }
        }
        return planes
    }

    /// Accuracy on low- and high-pass filtered images at each radius, and (given an attack) the
    /// mean radial power spectrum of its perturbations.
    public static func run(_ model: ImageClassifier, on dataset: ImageDataset, radii: [Double],
                           attack: AttackSpec? = nil, batchSize: Int = 128, progress: ExampleProgress? = nil) throws -> Report {
        try RobustnessEvaluator.validate(model, on: dataset, attacks: attack.map { [$0] } ?? [], craftingModel: nil, craftingSpace: .logits)
        if let attack, attack.kind == .uap { throw RobustnessError.invalidSetting(name: "attack", reason: "the spectrum needs per-example perturbations; uap is one") }
        guard radii.allSatisfy({ $0 >= 0 && $0.isFinite }) else { throw RobustnessError.invalidSetting(name: "radii", reason: "must be finite and >= 0, got \(radii)") }
        let loader = try DataLoader(dataset: dataset, batchSize: batchSize, shuffle: false, prefetchDepth: 1)
        var clean = 0
        var low = [Int](repeating: 0, count: radii.count), high = low
        var spectrum: [Double] = []
        var planes = 0
        for batch in loader.batches(epoch: 0) {
            progress?(batch.index * batchSize, dataset.count)
            func hits(_ images: Tensor) throws -> Int {
                RobustnessEvaluator.judge(try RobustnessEvaluator.logits(model, images), batch.labels).correct.filter { $0 }.count
            }
            clean += try hits(batch.images)
            let frequencies = ImageSpectrum(batch.images) // one forward transform for every radius
            for (i, r) in radii.enumerated() {
                low[i] += try hits(frequencies.filtered(radius: r, pass: .low))
                high[i] += try hits(frequencies.filtered(radius: r, pass: .high))
            }
            if let attack {
                let crafted = try ProjectedGradientAttack.run(model, images: batch.images, loss: attack.loss(labels: batch.labels),
                                                              settings: attack.settings(batchSeed: UInt64(batch.index)))
                planes += accumulateRadialPower(try crafted.images - batch.images, into: &spectrum)
            }
        }
        let n = Double(max(dataset.count, 1))
        progress?(dataset.count, dataset.count)
        return Report(cleanAccuracy: Double(clean) / n, examples: dataset.count,
                      lowPass: zip(radii, low).map { FilteredAccuracy(radius: $0, accuracy: Double($1) / n) },
                      highPass: zip(radii, high).map { FilteredAccuracy(radius: $0, accuracy: Double($1) / n) },
                      perturbationSpectrum: attack == nil ? nil : spectrum.map { $0 / Double(max(planes, 1)) })
    }
}
