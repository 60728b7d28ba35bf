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

        var outHeight = height, outWidth = width
        var storage: PixelStorage?
        for (index, file) in files.enumerated() {
            let decoded = try DecodedImage.read(file.path, channels: channels)
            let (h, w) = (outHeight ?? decoded.height, outWidth ?? decoded.width)
            (outHeight, outWidth) = (h, w)
            let target = storage ?? PixelStorage(count: files.count * channels * h * w)
            storage = target
            decoded.planar().withUnsafeBufferPointer { planar in
                BilinearResize.resize(planar.baseAddress!, planes: channels, inHeight: decoded.height, inWidth: decoded.width,
                                      into: target.pointer + index * channels * h * w, outHeight: h, outWidth: w)
            }
        }
        return ImageDataset(name: name, channels: channels, height: outHeight!, width: outWidth!, pixels: storage!,
                            labels: files.map(\.label), classNames: classNames)
    }
}
