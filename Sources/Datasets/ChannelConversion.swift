extension ImageDataset {
    /// The images with `newChannels` channels: gray -> RGB repeats the gray plane, RGB -> gray
    /// takes the ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B (PIL's "L" conversion), so a
    /// gray source task and a color target task (or the reverse) can share one model.
    public func converted(toChannels newChannels: Int) throws -> ImageDataset {
        if newChannels == channels { return self }
        let plane = height * width
        switch (channels, newChannels) {
        case (1, 3):
            let storage = PixelStorage(count: count * 3 * plane)
            for n in 0..<count {
                let source = pixels.pointer + n * plane, destination = storage.pointer + n * 3 * plane
                for c in 0..<3 { (destination + c * plane).update(from: source, count: plane) }
            }
            return ImageDataset(name: name, channels: 3, height: height, width: width, pixels: storage,
                                labels: labels, classNames: classNames)
        case (3, 1):
            let storage = PixelStorage(count: count * plane)
            for n in 0..<count {
                let source = pixels.pointer + n * 3 * plane, destination = storage.pointer + n * plane
                for p in 0..<plane { destination[p] = Luma.of(source[p], source[plane + p], source[2 * plane + p]) }
            }
            return ImageDataset(name: name, channels: 1, height: height, width: width, pixels: storage,
                                labels: labels, classNames: classNames)
        default:
            throw DatasetError.invalidArgument(what: "channel conversion of \(name)",
                                               reason: "from \(channels) to \(newChannels) channels is not supported (1 <-> 3 only)")
        }
    }
}

/// The module's one RGB -> gray rule, ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B, rounded),
/// used for views and for decoding color files to gray alike.
enum Luma {
    @inline(__always)
    static func of(_ red: UInt8, _ green: UInt8, _ blue: UInt8) -> UInt8 {
        let r: Float = 0.299 * Float(red), g: Float = 0.587 * Float(green), b: Float = 0.114 * Float(blue)
        return UInt8(min(255, r + g + b + 0.5))
    }
}

extension DecodedImage {
    /// This RGB image in gray (see `Luma`).
    func luma() -> DecodedImage {
        precondition(channels == 3, "luma of a \(channels)-channel image")
        var gray = [UInt8](repeating: 0, count: width * height)
        pixels.withUnsafeBufferPointer { rgb in
            gray.withUnsafeMutableBufferPointer { out in
                for p in 0..<out.count { out[p] = Luma.of(rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]) }
            }
        }
        return DecodedImage(width: width, height: height, channels: 1, pixels: gray)
    }
}
