/// Bilinear resampling of planar 8-bit images with half-pixel centres
/// (`align_corners=False`, as torch.nn.functional.interpolate and OpenCV's INTER_LINEAR):
/// output pixel y samples source row (y + 0.5) * inHeight / outHeight - 0.5, clamped to the edge.
/// No antialiasing: strong downscaling aliases, as in those references.
enum BilinearResize {
    /// The two source indices and the weight of the second for each output index.
    private static func taps(output: Int, input: Int) -> [(Int, Int, Float)] {
        let scale = Float(input) / Float(output)
        return (0..<output).map { o in
            let position = max(0, (Float(o) + 0.5) * scale - 0.5)
            let low = min(Int(position), input - 1)
            let high = min(low + 1, input - 1)
            return (low, high, position - Float(low))
        }
    }

    /// Resizes `planes` planes of inHeight x inWidth bytes at `source` into outHeight x outWidth at `destination`.
    static func resize(_ source: UnsafePointer<UInt8>, planes: Int, inHeight: Int, inWidth: Int,
                       into destination: UnsafeMutablePointer<UInt8>, outHeight: Int, outWidth: Int) {
        if inHeight == outHeight && inWidth == outWidth {
            destination.update(from: source, count: planes * inHeight * inWidth)
            return
        }
        let rows = taps(output: outHeight, input: inHeight), columns = taps(output: outWidth, input: inWidth)
        rows.withUnsafeBufferPointer { rows in
            columns.withUnsafeBufferPointer { columns in
                for plane in 0..<planes {
                    let input = source + plane * inHeight * inWidth
                    let output = destination + plane * outHeight * outWidth
                    for y in 0..<outHeight {
                        let (top, bottom, wy) = rows[y]
                        let topRow = input + top * inWidth, bottomRow = input + bottom * inWidth
                        for x in 0..<outWidth {
                            let (left, right, wx) = columns[x]
                            let upper = Float(topRow[left]) + wx * (Float(topRow[right]) - Float(topRow[left]))
                            let lower = Float(bottomRow[left]) + wx * (Float(bottomRow[right]) - Float(bottomRow[left]))
                            let value = upper + wy * (lower - upper)
                            output[y * outWidth + x] = UInt8(min(255, max(0, value + 0.5)))
                        }
                    }
                }
            }
        }
    }
}

extension ImageDataset {
    /// Every image resized to `height` x `width` (bilinear, see `BilinearResize`), so a model
    /// pre-trained at one resolution can be fine-tuned on data of another.
    public func resized(height newHeight: Int, width newWidth: Int) throws -> ImageDataset {
        guard newHeight > 0, newWidth > 0 else {
            throw DatasetError.invalidArgument(what: "resize of \(name)", reason: "size \(newHeight)x\(newWidth) is not positive")
        }
        if newHeight == height && newWidth == width { return self }
        let outSize = channels * newHeight * newWidth
        let storage = PixelStorage(count: count * outSize)
        for n in 0..<count {
            BilinearResize.resize(pixels.pointer + n * imageSize, planes: channels, inHeight: height, inWidth: width,
                                  into: storage.pointer + n * outSize, outHeight: newHeight, outWidth: newWidth)
        }
        return ImageDataset(name: name, channels: channels, height: newHeight, width: newWidth, pixels: storage,
                            labels: labels, classNames: classNames)
    }
}
