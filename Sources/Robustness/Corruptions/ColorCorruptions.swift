/// ImageNet-C's colour corruptions: contrast per channel; brightness and saturation in HSV as
/// skimage converts (Double arithmetic, as skimage's float64).
enum ColorCorruptions {
    /// (x − mean)·c + mean, the mean per channel over the image.
    static func contrast(_ image: inout CorruptionImage, factor: Float) {
        let size = image.plane
        for c in 0..<image.channels {
            let range = c * size..<(c + 1) * size
            let mean = Float(image.pixels[range].reduce(0.0) { $0 + Double($1) } / Double(size))
            for i in range { image.pixels[i] = (image.pixels[i] - mean) * factor + mean }
        }
        image.clip()
    }

    /// HSV value + c, clipped to 1. A gray image is its own value (saturation 0), so it is x + c.
    static func brightness(_ image: inout CorruptionImage, shift: Double) {
        guard image.channels == 3 else {
            for i in image.pixels.indices { image.pixels[i] = Float(min(max(Double(image.pixels[i]) + shift, 0), 1)) }
            return
        }
        mapHSV(&image) { hsv in hsv.v = min(max(hsv.v + shift, 0), 1) }
    }

    /// HSV saturation·factor + shift, clipped to [0, 1]; RGB only (`CorruptionKind.applies`).
    static func saturate(_ image: inout CorruptionImage, factor: Double, shift: Double) {
        precondition(image.channels == 3, "saturate needs RGB")
        mapHSV(&image) { hsv in hsv.s = min(max(hsv.s * factor + shift, 0), 1) }
    }

    struct HSV { var h, s, v: Double }

    static func mapHSV(_ image: inout CorruptionImage, _ change: (inout HSV) -> Void) {
        let size = image.plane
        for p in 0..<size {
            var hsv = toHSV(Double(image.pixels[p]), Double(image.pixels[size + p]), Double(image.pixels[2 * size + p]))
            change(&hsv)
            let (r, g, b) = toRGB(hsv)
            (image.pixels[p], image.pixels[size + p], image.pixels[2 * size + p]) = (Float(r), Float(g), Float(b))
        }
        image.clip()
    }

    /// skimage's rgb2hsv: where several channels are the maximum, blue wins over green over red
    /// (skimage assigns in that order); hue and saturation are 0 for a gray pixel.
    static func toHSV(_ r: Double, _ g: Double, _ b: Double) -> HSV {
        let v = max(r, g, b)
        let delta = v - min(r, g, b)
        guard delta != 0 else { return HSV(h: 0, s: 0, v: v) }
        var h: Double
        if b == v { h = 4 + (r - g) / delta } else if g == v { h = 2 + (b - r) / delta } else { h = (g - b) / delta }
        h /= 6
        h -= h.rounded(.down)  // Python's % 1 for negative hues
        return HSV(h: h, s: delta / v, v: v)
    }

    /// skimage's hsv2rgb.
    static func toRGB(_ hsv: HSV) -> (Double, Double, Double) {
        let sector = (hsv.h * 6).rounded(.down)
        let f = hsv.h * 6 - sector
        let (v, s) = (hsv.v, hsv.s)
        let (p, q, t) = (v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s))
        switch Int(sector) % 6 {
        case 0: return (v, t, p)
        case 1: return (q, v, p)
        case 2: return (p, v, t)
        case 3: return (p, q, v)
        case 4: return (t, p, v)
        default: return (v, p, q)
        }
    }
}
