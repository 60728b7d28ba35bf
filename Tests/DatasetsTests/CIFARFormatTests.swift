import XCTest
@testable import Datasets

final class CIFARFormatTests: XCTestCase {
    func testCIFAR10ReadsAllFiveTrainingBatchesInOrderWithClassNames() throws {
        let fixtures = try Fixtures(self)
        for b in 1...5 {
            try fixtures.write(Fixtures.cifarRecords(labels: [b, 9 - b], labelBytes: 1, firstExample: 2 * (b - 1)), to: "cifar-10-batches-bin/data_batch_\(b).bin")
        }
        try fixtures.write(Fixtures.cifarRecords(labels: [7], labelBytes: 1), to: "cifar-10-batches-bin/test_batch.bin")
        let names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
        try fixtures.write(Array((names.joined(separator: "\n") + "\n\n").utf8), to: "cifar-10-batches-bin/batches.meta.txt")

        let train = try DatasetCatalog.load("cifar10", split: .train, options: DatasetLoadOptions(dataDirectory: fixtures.directory))
        XCTAssertEqual(train.shape, [10, 3, 32, 32])
        XCTAssertEqual(train.labels, [1, 8, 2, 7, 3, 6, 4, 5, 5, 4])
        XCTAssertEqual(train.classNames, names)
        XCTAssertEqual(train.image(3)[1024 + 5], Fixtures.cifarPixel(3, 1, 5), "records are already CHW")
        // A path to the directory works as well as the name.
        let test = try DatasetCatalog.load(fixtures.directory, split: .test)
        XCTAssertEqual(test.labels, [7])
        XCTAssertEqual(Array(test.image(0).prefix(3)), [0, 1, 2])
    }

    func testCIFAR100UsesTheFineLabel() throws {
        let fixtures = try Fixtures(self)
        try fixtures.write(Fixtures.cifarRecords(labels: [99, 42, 0], labelBytes: 2), to: "c100/train.bin")
        try fixtures.write(Fixtures.cifarRecords(labels: [13], labelBytes: 2), to: "c100/test.bin")
        let train = try DatasetCatalog.load(fixtures.path("c100"), split: .train)
        XCTAssertEqual(train.labels, [99, 42, 0])
        XCTAssertEqual(train.classCount, 100)
        XCTAssertEqual(train.image(2)[2048], Fixtures.cifarPixel(2, 2, 0))
    }

    func testPartialRecordAndOutOfRangeLabelAreReported() throws {
        let fixtures = try Fixtures(self)
        let path = try fixtures.write(Array(Fixtures.cifarRecords(labels: [1, 2], labelBytes: 1).dropLast(100)), to: "test_batch.bin")
        XCTAssertThrowsDatasetError(try CIFARFormat.load(directory: fixtures.directory, variant: .cifar10, split: .test, name: "x"),
                                    .sizeMismatch(path: path, reason: "6046 bytes is not a whole number of 3073-byte records"))
        try fixtures.write(Fixtures.cifarRecords(labels: [1, 10], labelBytes: 1), to: "test_batch.bin")
        XCTAssertThrowsDatasetError(try CIFARFormat.load(directory: fixtures.directory, variant: .cifar10, split: .test, name: "x"),
                                    .labelOutOfRange(path: path, example: 1, label: 10, classCount: 10))
    }

    func testMissingCIFARNamesTheFetchCommand() throws {
        let fixtures = try Fixtures(self)
        let error = datasetError(try DatasetCatalog.load("cifar100", split: .train, options: DatasetLoadOptions(dataDirectory: fixtures.directory)))
        guard case let .missingDataset(name, searched, remedy)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(name, "cifar100")
        XCTAssertEqual(searched.first, fixtures.path("cifar-100-binary"))
        XCTAssertTrue(remedy.contains("scripts/fetch_datasets.sh cifar100"), remedy)
    }
}
