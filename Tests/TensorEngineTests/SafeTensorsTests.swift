import XCTest
@testable import TensorEngine

final class SafeTensorsTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testRoundTrip() throws {
        var g = RandomGenerator(seed: 1)
        let a = Tensor.normal([3, 4, 2], generator: &g), b = Tensor.normal([5], generator: &g)
        let path = directory.appendingPathComponent("x.safetensors").path
        try SafeTensors.write(SafeTensorsFile(tensors: [("layer.weight", a), ("layer.bias", b)],
                                              metadata: ["model": "m", "quote": "a \"b\"\n"]), to: path)
        let file = try SafeTensors.read(path)
        XCTAssertEqual(file.tensors.map(\.0), ["layer.weight", "layer.bias"])
        XCTAssertEqual(file["layer.weight"]?.shape, [3, 4, 2])
        XCTAssertEqual(file["layer.weight"]?.values, a.values)
        XCTAssertEqual(file["layer.bias"]?.values, b.values)
        XCTAssertEqual(file.metadata, ["model": "m", "quote": "a \"b\"\n"])
        let header = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(8)
        XCTAssertEqual(header.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } % 8, 0, "data starts 8-byte aligned")
    }

    /// `rt train --out` onto the checkpoint of an earlier run: the new one replaces it. (Through
    /// FileManager.replaceItemAt the second write failed and deleted the first file.)
    func testWritingOverAnExistingFileReplacesIt() throws {
        let path = directory.appendingPathComponent("again.safetensors").path
        try SafeTensors.write(SafeTensorsFile(tensors: [("w", Tensor(repeating: 1, shape: [2]))]), to: path)
        try SafeTensors.write(SafeTensorsFile(tensors: [("w", Tensor(repeating: 2, shape: [3]))]), to: path)
        XCTAssertEqual(try SafeTensors.read(path)["w"]?.values, [2, 2, 2])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["again.safetensors"], "no partial file left")
    }

    /// A file laid out byte by byte from the format's description, not by our writer.
    func testReadsAnIndependentlyWrittenFile() throws {
        let header = #"{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        var bytes: [UInt8] = []
        let length = UInt64(header.utf8.count)
        for i in 0..<8 { bytes.append(UInt8((length >> (8 * UInt64(i))) & 0xFF)) }
        bytes += Array(header.utf8)
        bytes += [0x00, 0x00, 0x80, 0x3F]  // 1.0
        bytes += [0x00, 0x00, 0x20, 0xC0]  // -2.5
        bytes += [0x00, 0x00, 0x00, 0x00]  // 0.0
        let file = try SafeTensors.decode(Data(bytes), path: "fixture")
        XCTAssertEqual(file.tensors.map(\.0), ["a", "b"])
        XCTAssertEqual(file["a"]?.values, [1.0, -2.5])
        XCTAssertEqual(file["b"]?.values, [0.0])
        XCTAssertEqual(file.metadata["format"], "pt")
        // And our writer produces exactly those data bytes for the same tensors.
        let ours = try SafeTensors.encode(SafeTensorsFile(tensors: [("a", try Tensor(shape: [2], values: [1, -2.5]))]))
        XCTAssertEqual(Array(ours.suffix(8)), [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0])
    }

    func testTruncatedAndCorruptFilesNameTheProblem() throws {
        let data = try SafeTensors.encode(SafeTensorsFile(tensors: [("conv.weight", Tensor(zeros: [4, 4]))]))
        XCTAssertThrowsError(try SafeTensors.decode(data.prefix(data.count - 4), path: "cut.safetensors")) {
            XCTAssertTrue("\($0)".contains("cut.safetensors") && "\($0)".contains("conv.weight") && "\($0)".contains("truncated"), "\($0)")
        }
        XCTAssertThrowsError(try SafeTensors.decode(Data([1, 2, 3]), path: "tiny")) { XCTAssertTrue("\($0)".contains("too short")) }
        var huge = data
        huge.replaceSubrange(0..<8, with: [0xFF, 0xFF, 0, 0, 0, 0, 0, 0])
        XCTAssertThrowsError(try SafeTensors.decode(huge, path: "bad")) { XCTAssertTrue("\($0)".contains("exceeds")) }
        XCTAssertThrowsError(try SafeTensors.read(directory.appendingPathComponent("missing").path))
    }
}
