import Foundation

/// A directory of class folders of PNG/JPEG files, as torchvision's ImageFolder:
/// `root/<class>/*.png|*.jpg|*.jpeg`, or with splits `root/train/<class>/…` and `root/test/<class>/…`.
/// Classes are the folder names in sorted order (label 0 = first). Every image is decoded
/// to the configured channel count and resized (bilinear) to the configured size.
public enum ImageFolderFormat {
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Whether `directory` looks like an ImageFolder: it has sub-directories (class or split folders).
    public static func looks(like directory: String) -> Bool {
        guard let entries = try? DatasetFile.entries(of: directory) else { return false }
        return entries.contains { DatasetFile.isDirectory(DatasetFile.join(directory, $0)) }
    }

    /// The folder holding the class folders of `split`: `root/<split>` when `root/train` exists
    /// (`val` is accepted for test), otherwise `root` itself, which then is the train split only.
    static func splitDirectory(root: String, split: DatasetSplit) throws -> String {
        let train = DatasetFile.join(root, "train")
        guard DatasetFile.isDirectory(train) else {
            guard split == .train else {
                throw DatasetError.unrecognizedDataset(path: root, reason: "ImageFolder without train/ and test/ folders has no test split; split its training data instead")
            }
            return root
        }
        if split == .train { return train }
        for name in ["test", "val"] where DatasetFile.isDirectory(DatasetFile.join(root, name)) {
            return DatasetFile.join(root, name)
        }
        throw DatasetError.unrecognizedDataset(path: root, reason: "has train/ but neither test/ nor val/")
    }

    /// Loads `split` of the ImageFolder at `root`. `channels` is 1 or 3 (default 3);
    /// `height`/`width` default to the size of the first image.
    public static func load(root: String, split: DatasetSplit, channels: Int = 3, height: Int? = nil, width: Int? = nil,
                            name: String) throws -> ImageDataset {
        guard channels == 1 || channels == 3 else {
            throw DatasetError.invalidArgument(what: "ImageFolder \(root)", reason: "channels must be 1 or 3, not \(channels)")
        }
        let directory = try splitDirectory(root: root, split: split)
        let classNames = try DatasetFile.entries(of: directory).filter { DatasetFile.isDirectory(DatasetFile.join(directory, $0)) }
        guard !classNames.isEmpty else {
            throw DatasetError.unrecognizedDataset(path: directory, reason: "ImageFolder has no class folders")
        }
        var files: [(path: String, label: Int)] = []
        for (label, className) in classNames.enumerated() {
            let classDirectory = DatasetFile.join(directory, className)
            let images = try DatasetFile.entries(of: classDirectory).filter { entry in
                guard let dot = entry.lastIndex(of: ".") else { return false }
                return imageExtensions.contains(entry[entry.index(after: dot)...].lowercased())
            }
            guard !images.isEmpty else { throw DatasetError.emptyClass(path: classDirectory, className: className) }
            files += images.map { (DatasetFile.join(classDirectory, $0), label) }
        }

        // The first image fixes the size when none is configured; the rest decode in parallel
        // (decoding dominates loading), each into its own slot, so the result does not depend
        // on scheduling. Of several bad files, the first in file order is reported.
        let first = try DecodedImage.read(files[0].path, channels: channels)
        let (outHeight, outWidth) = (height ?? first.height, width ?? first.width)
        let imageSize = channels * outHeight * outWidth
        let storage = PixelStorage(count: files.count * imageSize)
        func store(_ decoded: DecodedImage, at index: Int) {
            decoded.planar().withUnsafeBufferPointer { planar in
                BilinearResize.resize(planar.baseAddress!, planes: channels, inHeight: decoded.height, inWidth: decoded.width,
                                      into: storage.pointer + index * imageSize, outHeight: outHeight, outWidth: outWidth)
            }
        }
        store(first, at: 0)
        let failures = FailureList()
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, files.count - 1))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let start = 1 + (files.count - 1) * worker / workers, end = 1 + (files.count - 1) * (worker + 1) / workers
            for index in start..<end {
                do { store(try DecodedImage.read(files[index].path, channels: channels), at: index) }
                catch { failures.record(index: index, error: error); return }
            }
        }
        if let error = failures.first { throw error }
        return ImageDataset(name: name, channels: channels, height: outHeight, width: outWidth, pixels: storage,
                            labels: files.map(\.label), classNames: classNames)
    }

    /// Errors of parallel decoding, so the one reported is the same whatever the thread timing.
    private final class FailureList: @unchecked Sendable {
        private let lock = NSLock()
        private var failures: [(index: Int, error: Error)] = []

        func record(index: Int, error: Error) {
            lock.lock()
            failures.append((index, error))
            lock.unlock()
        }

        var first: Error? {
            lock.lock()
            defer { lock.unlock() }
            return failures.min { $0.index < $1.index }?.error
        }
    }
}
