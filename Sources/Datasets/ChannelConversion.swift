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
                for p in 0..<plane {
                    let luma = 0.299 * Float(source[p]) + 0.587 * Float(source[plane + p]) + 0.114 * Float(source[2 * plane + p])
                    destination[p] = UInt8(min(255, luma + 0.5))
                }
            }
            return ImageDataset(name: name, channels: 1, height: height, width: width, pixels: storage,
                                labels: labels, classNames: classNames)
        default:
            throw DatasetError.invalidArgument(what: "channel conversion of \(name)",
                                               reason: "from \(channels) to \(newChannels) channels is not supported (1 <-> 3 only)")
        }
    }
}
