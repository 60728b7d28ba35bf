import XCTest
@testable import Datasets

final class ImageFolderTests: XCTestCase {
    func testPNGRoundTripsExactlyInGrayAndRGB() throws {
        let fixtures = try Fixtures(self)
        for channels in [1, 3] {
            let image = Fixtures.gradientImage(width: 5, height: 4, channels: channels)
            try PNGCodec.write(image, to: fixtures.path("g\(channels).png"))
            XCTAssertEqual(try DecodedImage.read(fixtures.path("g\(channels).png"), channels: channels), image)
        }
        // Color PNG asked as gray: ITU-R 601 luma, as for JPEG and channel conversion.
        try PNGCodec.write(DecodedImage(width: 1, height: 1, channels: 3, pixels: [200, 40, 90]), to: fixtures.path("c.png"))
        XCTAssertEqual(try DecodedImage.read(fixtures.path("c.png"), channels: 1).pixels, [94], "0.299*200 + 0.587*40 + 0.114*90 = 93.54")
        // Gray PNG asked as RGB: every channel equals the gray value.
        let rgb = try DecodedImage.read(fixtures.path("g1.png"), channels: 3)
        XCTAssertEqual(rgb.pixels[3 * 7 + 0], rgb.pixels[3 * 7 + 2])
        XCTAssertEqual(rgb.pixels[3 * 7], Fixtures.gradientImage(width: 5, height: 4, channels: 1).pixels[7])
    }

    func testJPEGDecodesCloseToTheEncodedPixels() throws {
        let fixtures = try Fixtures(self)
        // Flat colors survive JPEG almost exactly (no high frequencies to quantise).
        let flat = DecodedImage(width: 16, height: 16, channels: 3, pixels: [UInt8]((0..<256).flatMap { _ in [200, 40, 90] as [UInt8] }))
        try JPEGCodec.write(flat, to: fixtures.path("flat.jpg"), quality: 95)
        let decoded = try DecodedImage.read(fixtures.path("flat.jpg"), channels: 3)
        XCTAssertEqual(decoded.width, 16)
        for (a, b) in zip(decoded.pixels, flat.pixels) { XCTAssertLessThanOrEqual(abs(Int(a) - Int(b)), 3) }
        let gray = try DecodedImage.read(fixtures.path("flat.jpg"), channels: 1)
        let luma = 0.299 * 200 + 0.587 * 40 + 0.114 * 90
        XCTAssertEqual(Double(gray.pixels[0]), luma, accuracy: 3)
    }

    func testFolderWithSplitsSortsClassesAndResizes() throws {
        let fixtures = try Fixtures(self)
        let image = Fixtures.gradientImage(width: 8, height: 8, channels: 3)
        for (split, classes) in [("train", ["dog", "cat"]), ("test", ["cat", "dog"])] {
            for className in classes {
                try fixtures.makeDirectory("pets/\(split)/\(className)")
                try PNGCodec.write(image, to: fixtures.path("pets/\(split)/\(className)/a.png"))
                try JPEGCodec.write(image, to: fixtures.path("pets/\(split)/\(className)/b.JPG"))
            }
        }
        try fixtures.write(Array("not an image".utf8), to: "pets/train/cat/notes.txt")
        let train = try DatasetCatalog.load(fixtures.path("pets"), split: .train, options: DatasetLoadOptions(channels: 1, height: 4, width: 4))
        XCTAssertEqual(train.classNames, ["cat", "dog"])
        XCTAssertEqual(train.labels, [0, 0, 1, 1])
        XCTAssertEqual(train.shape, [4, 1, 4, 4])
        let full = try DatasetCatalog.load(fixtures.path("pets"), split: .test)
        XCTAssertEqual(full.shape, [4, 3, 8, 8], "default: RGB at the first image's size")
        // The PNG is lossless: planar pixel (c=1, y=2, x=3) of image 0 is the gradient's value.
        let planarIndex = 64 + 2 * 8 + 3
        let expected: UInt8 = 3 * 20 + 2 * 10 + 60
        XCTAssertEqual(full.image(0)[planarIndex], expected)
    }

    func testUndecodableImageEmptyClassAndMissingTestSplit() throws {
        let fixtures = try Fixtures(self)
        try fixtures.makeDirectory("flat/a")
        try PNGCodec.write(Fixtures.gradientImage(width: 2, height: 2, channels: 1), to: fixtures.path("flat/a/1.png"))
        try fixtures.makeDirectory("flat/b")
        XCTAssertThrowsDatasetError(try ImageFolderFormat.load(root: fixtures.path("flat"), split: .train, name: "x"),
                                    .emptyClass(path: fixtures.path("flat/b"), className: "b"))
        let corrupt = try fixtures.write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 1, 2], to: "flat/b/broken.png")
        guard case let .undecodableImage(path, _)? = datasetError(try ImageFolderFormat.load(root: fixtures.path("flat"), split: .train, name: "x")) else {
            return XCTFail("corrupt PNG accepted")
        }
        XCTAssertEqual(path, corrupt)
        try FileManager.default.removeItem(atPath: corrupt)
        let badJPEG = try fixtures.write([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 0x4A, 0x46, 0x49, 0x46], to: "flat/b/broken.jpg")
        guard case let .undecodableImage(jpegPath, reason)? = datasetError(try ImageFolderFormat.load(root: fixtures.path("flat"), split: .train, name: "x")) else {
            return XCTFail("corrupt JPEG accepted")
        }
        XCTAssertEqual(jpegPath, badJPEG)
        XCTAssertTrue(reason.hasPrefix("libjpeg: "), reason)
        guard case .unrecognizedDataset? = datasetError(try ImageFolderFormat.load(root: fixtures.path("flat"), split: .test, name: "x")) else {
            return XCTFail("a folder without splits has no test split")
        }
    }

    func testParallelDecodingPutsEveryImageInItsSlotAndReportsTheFirstBadFile() throws {
        let fixtures = try Fixtures(self)
        // 3 classes x 7 flat gray images; image j of class c has value 10 * (7c + j) + 5.
        for c in 0..<3 {
            try fixtures.makeDirectory("many/c\(c)")
            for j in 0..<7 {
                let value = UInt8(10 * (7 * c + j) + 5)
                try PNGCodec.write(DecodedImage(width: 3, height: 2, channels: 1, pixels: [UInt8](repeating: value, count: 6)),
                                   to: fixtures.path("many/c\(c)/img\(j).png"))
            }
        }
        let dataset = try ImageFolderFormat.load(root: fixtures.path("many"), split: .train, channels: 1, name: "many")
        XCTAssertEqual(dataset.shape, [21, 1, 2, 3])
        XCTAssertEqual(dataset.labels, (0..<21).map { $0 / 7 })
        XCTAssertEqual((0..<21).map { dataset.image($0)[5] }, (0..<21).map { UInt8(10 * $0 + 5) })

        let early = try fixtures.write(Array("garbage".utf8), to: "many/c0/img3.png")
        try fixtures.write(Array("garbage".utf8), to: "many/c2/img5.png")
        for _ in 0..<3 {
            guard case let .undecodableImage(path, _)? = datasetError(try ImageFolderFormat.load(root: fixtures.path("many"), split: .train, name: "many")) else {
                return XCTFail("corrupt files accepted")
            }
            XCTAssertEqual(path, early)
        }
    }
}
