import XCTest
@testable import Datasets

final class DatasetCatalogTests: XCTestCase {
    func testNamedIDXDatasetsLoadFromTheDataDirectoryAndApplyOptions() throws {
        let fixtures = try Fixtures(self)
        let mnist = Fixtures(existing: fixtures.path("mnist"))
        try mnist.writeIDXPair(count: 6, rows: 4, columns: 4, gzip: true)
        let options = DatasetLoadOptions(dataDirectory: fixtures.directory, channels: 3, height: 8, width: 8)
        let train = try DatasetCatalog.load("mnist", split: .train, options: options)
        XCTAssertEqual(train.shape, [6, 3, 8, 8])
        XCTAssertEqual(train.classCount, 10)
        XCTAssertEqual(train.name, "mnist/train")
        let fashion = Fixtures(existing: fixtures.path("fashion-mnist"))
        try fashion.writeIDXPair(split: "t10k", count: 3, labels: [9, 0, 8])
        try fashion.writeIDXPair(count: 3)
        let test = try DatasetCatalog.load("fashion-mnist", split: .test, options: DatasetLoadOptions(dataDirectory: fixtures.directory))
        XCTAssertEqual(test.labels, [9, 0, 8])
        XCTAssertEqual(test.classNames[9], "Ankle boot")
    }

    func testMissingAndUnknownDatasetsSayWhatToDo() throws {
        let fixtures = try Fixtures(self)
        let options = DatasetLoadOptions(dataDirectory: fixtures.directory)
        XCTAssertThrowsDatasetError(try DatasetCatalog.load("mnist", split: .train, options: options),
                                    .missingDataset(name: "mnist", searched: [fixtures.path("mnist")],
                                                    remedy: "download it with `scripts/fetch_datasets.sh mnist` (RT_DATA_DIR=\(fixtures.directory))"))
        if !DatasetFile.isDirectory(DatasetCatalog.debianFashionMNIST) {
            let error = datasetError(try DatasetCatalog.load("fashion-mnist", split: .train, options: options))
            XCTAssertTrue("\(String(describing: error))".contains("apt-get install dataset-fashion-mnist"))
        }
        guard case let .unrecognizedDataset(path, reason)? = datasetError(try DatasetCatalog.load("imagenet", split: .train, options: options)) else {
            return XCTFail("unknown name accepted")
        }
        XCTAssertEqual(path, "imagenet")
        XCTAssertTrue(reason.contains("fashion-mnist, mnist, cifar10, cifar100, digits, synthetic"), reason)
        try fixtures.makeDirectory("empty")
        guard case .unrecognizedDataset? = datasetError(try DatasetCatalog.load(fixtures.path("empty"), split: .train)) else {
            return XCTFail("empty directory accepted")
        }
    }

    /// The real Fashion-MNIST from Debian's dataset-fashion-mnist (scripts/setup.sh installs it).
    func testRealFashionMNIST() throws {
        let directory = DatasetCatalog.debianFashionMNIST
        guard DatasetFile.exists(DatasetFile.join(directory, "train-images-idx3-ubyte.gz")) else {
            throw XCTSkip("Fashion-MNIST is not installed in \(directory): run scripts/setup.sh (apt-get install dataset-fashion-mnist)")
        }
        let options = DatasetLoadOptions(dataDirectory: NSTemporaryDirectory() + "rt-no-data-here")
        let train = try DatasetCatalog.load("fashion-mnist", split: .train, options: options)
        let test = try DatasetCatalog.load("fashion-mnist", split: .test, options: options)
        XCTAssertEqual(train.shape, [60_000, 1, 28, 28])
        XCTAssertEqual(test.shape, [10_000, 1, 28, 28])
        XCTAssertEqual(train.examplesPerClass, [Int](repeating: 6_000, count: 10))
        XCTAssertEqual(test.examplesPerClass, [Int](repeating: 1_000, count: 10))
        XCTAssertEqual(Array(train.labels.prefix(5)), [9, 0, 0, 3, 0], "the published first training labels")
        let statistics = train.channelStatistics()
        XCTAssertEqual(statistics.mean[0], 0.2860, accuracy: 5e-4, "the published Fashion-MNIST mean")
        XCTAssertEqual(statistics.std[0], 0.3530, accuracy: 5e-4, "the published Fashion-MNIST std")
        let target = try train.selectingClasses(spec: "5-9").sampling(perClass: 100, seed: 0)
        XCTAssertEqual(target.examplesPerClass, [100, 100, 100, 100, 100])
        XCTAssertEqual(target.classNames, ["Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"])
    }

    /// scikit-learn's real digits.csv.gz, when `scripts/fetch_datasets.sh digits` has put it in the data directory.
    func testRealDigits() throws {
        let path = DatasetFile.join(DatasetCatalog.dataDirectory(DatasetLoadOptions()), "digits.csv.gz")
        guard DatasetFile.exists(path) else {
            throw XCTSkip("\(path) is absent: run scripts/fetch_datasets.sh digits (needs internet)")
        }
        let train = try DatasetCatalog.load("digits", split: .train)
        let test = try DatasetCatalog.load("digits", split: .test)
        XCTAssertEqual(train.count + test.count, 1797)
        XCTAssertEqual(test.count, 449, "rows 3, 7, …, 1795")
        XCTAssertEqual(Array(train.labels.prefix(4)), [0, 1, 2, 4], "the file starts 0, 1, 2, 3, 4 …; row 3 is test")
        XCTAssertEqual(test.labels.first, 3)
        XCTAssertEqual(train.image(0)[2], UInt8((5 * 255 + 8) / 16), "first row starts 0, 0, 5, 13")
    }
}

final class DatasetTaskTests: XCTestCase {
    func testTaskSelectsTheSameClassesInBothSplitsAndSamplesOnlyTraining() throws {
        let task = try DatasetTask.load(dataset: "synthetic:classes=10,channels=1,size=8,train=200,test=50,seed=2",
                                        classes: "5-9", perClass: 4, seed: 1,
                                        options: DatasetLoadOptions(channels: 3, height: 12, width: 12))
        XCTAssertEqual(task.classCount, 5)
        XCTAssertEqual(task.imageShape, [3, 12, 12])
        XCTAssertEqual(task.train.examplesPerClass, [4, 4, 4, 4, 4])
        XCTAssertEqual(task.test.examplesPerClass, [5, 5, 5, 5, 5], "test keeps every example of the selected classes")
        XCTAssertEqual(task.test.classNames, ["class5", "class6", "class7", "class8", "class9"])
        XCTAssertEqual(task.statistics, task.train.channelStatistics())
        XCTAssertEqual(task.statistics.mean[0], task.statistics.mean[2], "gray converted to RGB: equal channels")
        XCTAssertEqual(task.test.prefix(7).labels, Array(task.test.labels.prefix(7)))
        XCTAssertEqual(task.test.prefix(1000).count, 25)
    }

    func testSelectingAClassWithoutExamplesIsAnEmptyClassError() throws {
        let sampled = try makeTestDataset(count: 9, classes: 3).selectingClasses([0, 2])
        let onlyFirst = sampled.gathering(sampled.labels.indices.filter { sampled.labels[$0] == 0 })
        XCTAssertThrowsDatasetError(try onlyFirst.selectingClasses([1]), .emptyClass(path: onlyFirst.name, className: "2"))
    }
}
