/// Linear CKA, and SVCCA beside it, between this model's and a reference model's
/// representations at one stage.
public struct CKAValue: Codable, Equatable, Sendable {
    /// `parent`, or the stage of the parent compared with (a `cka` analysis).
    public var reference: String
    public var layer: String
    /// Linear CKA.
    public var value: Double
    /// SVCCA's mean canonical correlation; absent in stores from before it was measured.
    public var svcca: Double?

    public init(reference: String, layer: String, value: Double, svcca: Double? = nil) {
        (self.reference, self.layer, self.value, self.svcca) = (reference, layer, value, svcca)
    }
}

/// Accuracy on low- and high-pass filtered test images, per radius of the frequency mask.
public struct FrequencyMetrics: Codable, Equatable, Sendable {
    public var lowPass: [Point]
    public var highPass: [Point]

    public struct Point: Codable, Equatable, Sendable {
        public var radius: Double
        public var accuracy: Double

        public init(radius: Double, accuracy: Double) { (self.radius, self.accuracy) = (radius, accuracy) }
    }

    public init(lowPass: [Point], highPass: [Point]) { (self.lowPass, self.highPass) = (lowPass, highPass) }

    enum CodingKeys: String, CodingKey {
        case lowPass = "low_pass", highPass = "high_pass"
    }
}
