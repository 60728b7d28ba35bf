import Datasets

/// ImageNet-C's JPEG compression and pixelation (the elastic transform has its own file).
enum DigitalCorruptions {
    /// Through libjpeg and back at `quality`: the image is rounded to 8 bits (JPEG's input), encoded
    /// with libjpeg's defaults (4:2:0 chroma subsampling for RGB, as PIL's writer) and decoded.
    static func jpeg(_ image: inout CorruptionImage, quality: Int) throws {
        let (size, channels) = (image.plane, image.channels)
        var interleaved = [UInt8](repeating: 0, count: image.pixels.count)
        for p in 0..<size {
            for c in 0..<channels {
                interleaved[p * channels + c] = UInt8(min(max(image.pixels[c * size + p] * 255, 0), 255).rounded(.toNearestOrEven))
            }
        }
        let encoded = try JPEGCodec.encode(DecodedImage(width: image.width, height: image.height, channels: channels, pixels: interleaved),
                                           quality: quality)
        let decoded = try JPEGCodec.decode(encoded, channels: channels, path: "(jpeg_compression)")
        for p in 0..<size {
            for c in 0..<channels { image.pixels[c * size + p] = Float(decoded.pixels[p * channels + c]) / 255 }
        }
    }

    /// Down to ⌊side·fraction⌋ and back with PIL's BOX filter, in float (PIL rounds to 8 bits
    /// after each of its passes; the difference is below 1/255 per pass).
    static func pixelate(_ image: inout CorruptionImage, fraction: Double) {
        let (h, w) = (image.height, image.width)
        let (sh, sw) = (Int(Double(h) * fraction), Int(Double(w) * fraction))
        image.forEachPlane { plane in
            let small = boxResize(plane, height: h, width: w, toHeight: sh, toWidth: sw)
            plane = boxResize(small, height: sh, width: sw, toHeight: h, toWidth: w)
        }
        image.clip()
    }

    /// PIL's resampling with its box filter: rows first, then columns, as ImagingResample does.
    static func boxResize(_ plane: [Float], height: Int, width: Int, toHeight: Int, toWidth: Int) -> [Float] {
        let horizontal = boxCoefficients(from: width, to: toWidth)
        var wide = [Float](repeating: 0, count: height * toWidth)
        for y in 0..<height {
            for (x, c) in horizontal.enumerated() {
                var sum = 0.0
                for (k, weight) in c.weights.enumerated() { sum += weight * Double(plane[y * width + c.start + k]) }
                wide[y * toWidth + x] = Float(sum)
            }
        }
        let vertical = boxCoefficients(from: height, to: toHeight)
        var out = [Float](repeating: 0, count: toHeight * toWidth)
        for (y, c) in vertical.enumerated() {
            for x in 0..<toWidth {
                var sum = 0.0
                for (k, weight) in c.weights.enumerated() { sum += weight * Double(wide[(c.start + k) * toWidth + x]) }
                out[y * toWidth + x] = Float(sum)
            }
        }
        return out
    }

    /// Pillow's precompute_coeffs for the box filter (support ½, scaled by the reduction): output
    /// pixel i averages the input pixels whose centres lie in (c − s/2, c + s/2], c = (i + ½)·s,
    /// s = in/out (at least 1 for the filter's width, so enlarging picks the nearest pixel).
    static func boxCoefficients(from input: Int, to output: Int) -> [(start: Int, weights: [Double])] {
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = 0.5 * filterScale
        return (0..<output).map { i in
            let center = (Double(i) + 0.5) * scale
            let start = max(Int(center - support + 0.5), 0)
            let end = min(Int(center + support + 0.5), input)
            var weights = (start..<end).map { x -> Double in
                let t = (Double(x) - center + 0.5) / filterScale
                return t > -0.5 && t <= 0.5 ? 1 : 0
            }
            let total = weights.reduce(0, +)
            if total != 0 { weights = weights.map { $0 / total } }
            return (start, weights)
        }
    }
}
