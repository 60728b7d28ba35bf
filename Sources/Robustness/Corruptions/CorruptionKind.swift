/// The common corruptions of Hendrycks & Dietterich (2019, ImageNet-C) that apply to small gray
/// and RGB images. Names are ImageNet-C's own (`saturate`, not `saturation`), so results read the
/// same as the published tables. Glass blur, fog, frost, snow and spatter are not implemented
/// (docs/ROBUSTNESS.md says why).
public enum CorruptionKind: String, Codable, Sendable, CaseIterable {
    case gaussianNoise = "gaussian_noise", shotNoise = "shot_noise", impulseNoise = "impulse_noise", speckleNoise = "speckle_noise"
    case gaussianBlur = "gaussian_blur", defocusBlur = "defocus_blur", motionBlur = "motion_blur", zoomBlur = "zoom_blur"
    case contrast, brightness, saturate
    case jpegCompression = "jpeg_compression", pixelate, elasticTransform = "elastic_transform"

    /// ImageNet-C's grouping, for tables.
    public var family: String {
        switch self {
        case .gaussianNoise, .shotNoise, .impulseNoise, .speckleNoise: return "noise"
        case .gaussianBlur, .defocusBlur, .motionBlur, .zoomBlur: return "blur"
        case .contrast, .brightness, .saturate: return "color"
        case .jpegCompression, .pixelate, .elasticTransform: return "digital"
        }
    }

    /// Whether the corruption draws random numbers (the others are a fixed function of the image).
    public var isRandom: Bool {
        switch self {
        case .gaussianNoise, .shotNoise, .impulseNoise, .speckleNoise, .motionBlur, .elasticTransform: return true
        default: return false
        }
    }

    /// Saturation is a property of colour: a gray image has none to change (in HSV its hue is
    /// undefined, and skimage's convention would tint it red), so `saturate` needs RGB.
    public func applies(toChannels channels: Int) -> Bool { self != .saturate || channels == 3 }

    /// The kinds that apply to images with this many channels, in declaration order: the default list.
    public static func applicable(toChannels channels: Int) -> [CorruptionKind] { allCases.filter { $0.applies(toChannels: channels) } }

    public static let severities = 1...5

    /// `gaussian_noise`, or an error listing the known names.
    public static func named(_ name: String, key: String) throws -> CorruptionKind {
        guard let kind = CorruptionKind(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
            throw RobustnessError.invalidSetting(name: key, reason: "unknown corruption '\(name)'; known: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return kind
    }
}
