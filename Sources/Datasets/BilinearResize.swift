import TensorEngine

/// Bilinear resampling of planar 8-bit images with the engine's taps (`BilinearTaps`: half-pixel
/// centres, as torch.nn.functional.interpolate and OpenCV's INTER_LINEAR, no antialiasing),
/// rounded to bytes.
enum BilinearResize {
    /// Resizes `planes` planes of inHeight x inWidth bytes at `source` into outHeight x outWidth at `destination`.
    static func resize(_ source: UnsafePointer<UInt8>, planes: Int, inHeight: Int, inWidth: Int,
                       into destination: UnsafeMutablePointer<UInt8>, outHeight: Int, outWidth: Int) {
        if inHeight == outHeight && inWidth == outWidth {
            destination.update(from: source, count: planes * inHeight * inWidth)
            return
        }
        let rows = BilinearTaps(output: outHeight, input: inHeight), columns = BilinearTaps(output: outWidth, input: inWidth)
        for plane in 0..<planes {
            let input = source + plane * inHeight * inWidth
            let output = destination + plane * outHeight * outWidth
            for y in 0..<outHeight {
                let wy = rows.weight[y]
                let topRow = input + rows.low[y] * inWidth, bottomRow = input + rows.high[y] * inWidth
                for x in 0..<outWidth {
                    let (left, right, wx) = (columns.low[x], columns.high[x], columns.weight[x])
                    let upper = Float(topRow[left]) + wx * (Float(topRow[right]) - Float(topRow[left]))
                    let lower = Float(bottomRow[left]) + wx * (Float(bottomRow[right]) - Float(bottomRow[left]))
                    let value = upper + wy * (lower - upper)
                    output[y * outWidth + x] = UInt8(min(255, max(0, value + 0.5)))
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
