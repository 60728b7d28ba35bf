/// Linear CKA between this model's and a reference model's representations at one stage.
public struct CKAValue: Codable, Equatable, Sendable {
    /// `parent`, or the stage of the parent compared with (a `cka` analysis).
    public var reference: String
    public var layer: String
    public var value: Double

    public init(reference: String, layer: String, value: Double) {
        (self.reference, self.layer, self.value) = (reference, layer, value)
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
