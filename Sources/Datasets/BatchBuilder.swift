/// Turns dataset bytes into a Float32 NCHW batch in [0, 1], with augmentation.
enum BatchBuilder {
    /// byte / 255 for every byte: exact division, looked up instead of computed per pixel.
    static let byteToUnit: [Float] = (0..<256).map { Float($0) / 255 }

    /// Writes image `index` of `dataset` to `output` (C x H x W floats), augmented by `choice`
    /// (nil = as stored) with `padding` pixels of zero padding around the crop.
    static func write(_ dataset: ImageDataset, index: Int, choice: Augmentation.Choice?, padding: Int,
                      into output: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>) {
        let (channels, height, width) = (dataset.channels, dataset.height, dataset.width)
        let source = dataset.pixels.pointer + index * dataset.imageSize
        guard let choice, choice.offsetX != padding || choice.offsetY != padding || choice.flip else {
            for i in 0..<dataset.imageSize { output[i] = table[Int(source[i])] }
            return
        }
        let shiftY = choice.offsetY - padding, shiftX = choice.offsetX - padding
        for c in 0..<channels {
            let plane = source + c * height * width, out = output + c * height * width
            for y in 0..<height {
                let row = out + y * width
                let sourceY = y + shiftY
                guard sourceY >= 0 && sourceY < height else {
                    row.update(repeating: 0, count: width)
                    continue
                }
                let sourceRow = plane + sourceY * width
                for x in 0..<width {
                    let sourceX = (choice.flip ? width - 1 - x : x) + shiftX
                    row[x] = sourceX >= 0 && sourceX < width ? table[Int(sourceRow[sourceX])] : 0
                }
            }
        }
    }
}
