/// Per-channel mean and standard deviation of a dataset's pixels in [0, 1], the constants of
/// the model's Normalize layer (normalization is part of the model so attack budgets stay in pixel units).
public struct ChannelStatistics: Equatable, Sendable {
    public let mean: [Float]
    /// Population standard deviation (divides by the number of pixels).
    public let std: [Float]
}

extension ImageDataset {
    /// Mean and std of each channel over every pixel of every image. Counted through a
    /// 256-bin histogram per channel: exact, and one pass of integer increments.
    public func channelStatistics() -> ChannelStatistics {
        let plane = height * width
        var histograms = [[Int]](repeating: [Int](repeating: 0, count: 256), count: channels)
        for c in 0..<channels {
            histograms[c].withUnsafeMutableBufferPointer { histogram in
                for n in 0..<count {
                    let image = pixels.pointer + n * imageSize + c * plane
                    for p in 0..<plane { histogram[Int(image[p])] += 1 }
                }
            }
        }
        var means: [Float] = [], stds: [Float] = []
        for histogram in histograms {
            let total = Double(histogram.reduce(0, +))
            guard total > 0 else { means.append(0); stds.append(0); continue }
            var sum = 0.0, sumSquares = 0.0
            for (value, occurrences) in histogram.enumerated() {
                let x = Double(value) / 255
                sum += Double(occurrences) * x
                sumSquares += Double(occurrences) * x * x
            }
            let mean = sum / total
            means.append(Float(mean))
            stds.append(Float(max(0, sumSquares / total - mean * mean).squareRoot()))
        }
        return ChannelStatistics(mean: means, std: stds)
    }
}
