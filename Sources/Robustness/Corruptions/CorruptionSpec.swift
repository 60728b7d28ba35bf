import TensorEngine

/// One (corruption, severity) of an evaluation.
public struct CorruptionSpec: Sendable, Equatable, Codable {
    public var kind: CorruptionKind
    /// 1 (mild) to 5 (strong), ImageNet-C's scale.
    public var severity: Int
    /// Every random draw of the corruption flows from this seed and the example's index in the
    /// evaluated dataset, so an example is corrupted the same way in any batch and at any batch size.
    public var seed: UInt64

    public init(kind: CorruptionKind, severity: Int, seed: UInt64 = 0) {
        (self.kind, self.severity, self.seed) = (kind, severity, seed)
    }

    /// `gaussian_noise-3`: the label of its column and (after `corruption-`) of its mask.
    public var label: String { "\(kind.rawValue)-\(severity)" }

    public func validate(channels: Int? = nil) throws {
        guard CorruptionKind.severities.contains(severity) else {
            throw RobustnessError.invalidSetting(name: "severities", reason: "\(kind.rawValue): severity must be 1 to 5, got \(severity)")
        }
        if let channels, !kind.applies(toChannels: channels) {
            throw RobustnessError.invalidSetting(name: "kinds", reason: "\(kind.rawValue) changes colour saturation; these images have \(channels) channel (gray)")
        }
    }

    /// The generator of one example: independent streams per corruption, severity and example.
    func generator(example: Int) -> RandomGenerator {
        RandomGenerator(seed: seed &+ UInt64(example) &* 0x9E37_79B9_7F4A_7C15, stream: "corruption-\(label)")
    }

    /// Corrupts one image in place.
    public func apply(_ image: inout CorruptionImage, example: Int) throws {
        var generator = generator(example: example)
        try Corruption.apply(kind, severity: severity, to: &image, generator: &generator)
    }
}

/// The dispatch from a kind and severity to its function and parameters (CorruptionSeverity).
public enum Corruption {
    public static func apply(_ kind: CorruptionKind, severity: Int, to image: inout CorruptionImage, generator: inout RandomGenerator) throws {
        let s = severity - 1
        switch kind {
        case .gaussianNoise: NoiseCorruptions.gaussian(&image, sigma: CorruptionSeverity.gaussianNoise[s], &generator)
        case .shotNoise: NoiseCorruptions.shot(&image, photons: CorruptionSeverity.shotNoise[s], &generator)
        case .impulseNoise: NoiseCorruptions.impulse(&image, amount: CorruptionSeverity.impulseNoise[s], &generator)
        case .speckleNoise: NoiseCorruptions.speckle(&image, sigma: CorruptionSeverity.speckleNoise[s], &generator)
        case .gaussianBlur: BlurCorruptions.gaussian(&image, sigma: CorruptionSeverity.gaussianBlur[s])
        case .defocusBlur:
            let p = CorruptionSeverity.defocusBlur[s]
            BlurCorruptions.defocus(&image, radius: p.radius, aliasBlur: p.aliasBlur)
        case .motionBlur:
            let p = CorruptionSeverity.motionBlur[s]
            let angle = -45 + 90 * PoissonSampler.uniform(&generator)
            BlurCorruptions.motion(&image, radius: p.radius, sigma: p.sigma, angleDegrees: angle)
        case .zoomBlur: BlurCorruptions.zoom(&image, factors: CorruptionSeverity.zoomFactors(severity: severity))
        case .contrast: ColorCorruptions.contrast(&image, factor: CorruptionSeverity.contrast[s])
        case .brightness: ColorCorruptions.brightness(&image, shift: CorruptionSeverity.brightness[s])
        case .saturate:
            let p = CorruptionSeverity.saturate[s]
            ColorCorruptions.saturate(&image, factor: p.factor, shift: p.shift)
        case .jpegCompression: try DigitalCorruptions.jpeg(&image, quality: CorruptionSeverity.jpegQuality[s])
        case .pixelate: DigitalCorruptions.pixelate(&image, fraction: CorruptionSeverity.pixelate[s])
        case .elasticTransform:
            let p = CorruptionSeverity.elasticTransform[s]
            ElasticTransform.apply(&image, alpha: p.alpha, sigma: p.sigma, affine: p.affine, &generator)
        }
    }
}

/// What a sweep's `{attack: corruption, kinds: [...], severities: [...]}` or `rt attack --attack
/// corruption --kinds ... --severities ...` asks for; `kinds` nil means every kind that applies to
/// the evaluated images (all but `saturate` for gray ones).
public struct CorruptionSuite: Sendable, Equatable {
    public var kinds: [CorruptionKind]?
    public var severities: [Int]
    public var seed: UInt64

    public init(kinds: [CorruptionKind]?, severities: [Int] = Array(CorruptionKind.severities), seed: UInt64 = 0) {
        (self.kinds, self.severities, self.seed) = (kinds, severities, seed)
    }

    /// Reads comma-separated names and severities (`gaussian_noise,contrast`, `1,3,5`); errors name `kindsKey` or `severitiesKey`.
    public static func parse(kinds: [String]?, severities: [Int]?, seed: UInt64, kindsKey: String = "kinds",
                             severitiesKey: String = "severities") throws -> CorruptionSuite {
        let parsedKinds = try kinds.map { names -> [CorruptionKind] in
            guard !names.isEmpty else { throw RobustnessError.invalidSetting(name: kindsKey, reason: "empty: name at least one corruption or leave it out for all") }
            let parsed = try names.map { try CorruptionKind.named($0, key: kindsKey) }
            if let twice = parsed.first(where: { k in parsed.filter { $0 == k }.count > 1 }) {
                throw RobustnessError.invalidSetting(name: kindsKey, reason: "\(twice.rawValue) is listed twice")
            }
            return parsed
        }
        let levels = severities ?? Array(CorruptionKind.severities)
        guard !levels.isEmpty else { throw RobustnessError.invalidSetting(name: severitiesKey, reason: "empty: give severities from 1 to 5") }
        for level in levels where !CorruptionKind.severities.contains(level) {
            throw RobustnessError.invalidSetting(name: severitiesKey, reason: "severity must be 1 to 5, got \(level)")
        }
        if Set(levels).count != levels.count { throw RobustnessError.invalidSetting(name: severitiesKey, reason: "a severity is listed twice") }
        return CorruptionSuite(kinds: parsedKinds, severities: levels, seed: seed)
    }

    /// The (kind, severity) pairs for images with `channels` channels, kind by kind.
    public func specs(channels: Int) throws -> [CorruptionSpec] {
        let chosen = kinds ?? CorruptionKind.applicable(toChannels: channels)
        let specs = chosen.flatMap { kind in severities.map { CorruptionSpec(kind: kind, severity: $0, seed: seed) } }
        for spec in specs { try spec.validate(channels: channels) }
        return specs
    }
}
