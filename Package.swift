// swift-tools-version:6.0
import PackageDescription

// Release builds of the engine drop overflow and bounds checks in the numeric
// kernels: they run over raw pointers whose bounds the op checks once.
let kernelSettings: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "RobustTransfer",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "rt", targets: ["rt"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
    ],
    targets: [
        // C libraries from Debian (scripts/setup.sh installs them).
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // LAPACK, which Debian's OpenBLAS carries: the symmetric eigen-decomposition and SVD of SVCCA.
        .systemLibrary(name: "CLAPACK", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZeroMQ", pkgConfig: "libzmq",
                       providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // libcrypto's SHA-256 (content addresses of artifacts, checked on every transfer).
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),

        // PR_SET_PDEATHSIG for the processes `rt` starts (a variadic C call Swift cannot make).
        .target(name: "CProcessControl"),

        .target(name: "TensorEngine", dependencies: ["CBLAS", "CLAPACK"], swiftSettings: kernelSettings),
        .target(name: "NeuralNetworks", dependencies: ["TensorEngine"], swiftSettings: kernelSettings),
        .target(name: "Datasets", dependencies: ["TensorEngine", "CPNG", "CJPEG", "CZlib"], swiftSettings: kernelSettings),
        .target(name: "Cluster", dependencies: [
            "CZeroMQ", "CProcessControl", "CCrypto",
            .product(name: "Yams", package: "Yams"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Reads the run store and renders the study; knows nothing of tensors.
        // The study's metrics record: no tensor code, so Reports reads what Jobs writes without the engine.
        .target(name: "StudyMetrics"),
        .target(name: "Reports", dependencies: ["Cluster", "StudyMetrics"]),
        .target(name: "Robustness", dependencies: ["CBLAS", "TensorEngine", "NeuralNetworks", "Datasets"], swiftSettings: kernelSettings),
        .target(name: "Study", dependencies: ["TensorEngine", "NeuralNetworks", "Datasets", "Robustness"]),
        // The data-parallel adapter: the engine's GradientReducer over Cluster's ring all-reduce.
        .target(name: "DataParallel", dependencies: ["Cluster", "NeuralNetworks", "TensorEngine",
                                                    .product(name: "Logging", package: "swift-log")]),
        // Every job type a worker runs (study roles, cka, train) and the replica glue.
        .target(name: "Jobs", dependencies: ["Cluster", "StudyMetrics", "Study", "DataParallel", "Robustness", "Datasets", "NeuralNetworks", "TensorEngine"]),
        .target(name: "Benchmarks", dependencies: ["CBLAS", "TensorEngine", "NeuralNetworks", "Robustness"], swiftSettings: kernelSettings),
        .executableTarget(name: "rt", dependencies: [
            "TensorEngine", "NeuralNetworks", "Datasets", "Cluster", "Reports", "Benchmarks", "Study", "Robustness", "DataParallel", "Jobs",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "TensorEngineTests", dependencies: ["TensorEngine"]),
        .testTarget(name: "NeuralNetworksTests", dependencies: ["NeuralNetworks", "TensorEngine"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "TensorEngine"]),
        .testTarget(name: "StudyTests", dependencies: ["Study", "Datasets", "NeuralNetworks", "TensorEngine", "Cluster", "Robustness"]),
        .testTarget(name: "JobsTests", dependencies: ["Jobs", "StudyMetrics", "Study", "Datasets", "NeuralNetworks", "TensorEngine", "Cluster", "Robustness"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "StudyMetricsTests", dependencies: ["StudyMetrics"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Cluster", "StudyMetrics"]),
        .testTarget(name: "DataParallelTests", dependencies: ["DataParallel", "Cluster", "NeuralNetworks", "TensorEngine"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "NeuralNetworks", "TensorEngine"]),
        .testTarget(name: "RobustnessTests", dependencies: ["Robustness", "Study", "Datasets", "NeuralNetworks", "TensorEngine"]),
    ],
    swiftLanguageModes: [.v5]
)
