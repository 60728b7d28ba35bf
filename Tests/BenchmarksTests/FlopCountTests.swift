import XCTest
import NeuralNetworks
import TensorEngine
@testable import Benchmarks

/// The FLOPs the engine section divides by, against numbers worked out from the architectures
/// by hand (2 × multiply-adds of every convolution and linear layer).
final class FlopCountTests: XCTestCase {
    func forwardFlops(_ name: String, _ shape: [Int], classes: Int) throws -> Double {
        let description = ModelDescription(name: name, numClasses: classes, inputShape: shape,
                                           mean: Array(repeating: 0.5, count: shape[0]), std: Array(repeating: 0.25, count: shape[0]))
        return FlopCount.forward(try ModelZoo.make(description, seed: 0), inputShape: shape)
    }

    /// torchvision's resnet18 at 224×224 with 1,000 classes: 1,814,073,344 multiply-adds, the
    /// "1.81 GFLOPS" of torchvision's model table (which counts multiply-adds). Per layer:
    /// stem 3·64·49·112² = 118,013,952; layer1 4 · 64·64·9·56² = 462,422,016; layer2, 3 and 4
    /// 411,041,792 each (e.g. layer2: 64·128·9·28² + 3 · 128·128·9·28² + 64·128·28² for the
    /// downsample); fc 512·1000.
    func testResNet18MatchesTorchvisionAt224() throws {
        XCTAssertEqual(try forwardFlops("resnet18", [3, 224, 224], classes: 1000), 2 * 1_814_073_344)
    }

    /// The benchmark's resnet18: 3×64×64, 10 classes. Stem 3·64·49·32² = 9,633,792; layer1
    /// 4 · 64·64·9·16² = 37,748,736; layers 2-4 33,554,432 each; fc 5,120: 148,050,944 multiply-adds.
    func testResNet18At64() throws {
        XCTAssertEqual(try forwardFlops("resnet18", [3, 64, 64], classes: 10), 2 * 148_050_944)
    }

    /// resnet20 at 3×32×32 (BENCHMARKS.md's 81.63 MFLOP): 40,813,184 multiply-adds with fc 64·10.
    func testResNet20() throws {
        XCTAssertEqual(try forwardFlops("resnet20", [3, 32, 32], classes: 10), 2 * 40_813_184)
    }

    func testWorkloadTable() {
        XCTAssertEqual(EngineBenchmark.workloadNames, ["small-cnn/train", "small-cnn/pgd10", "resnet20/train",
                                                       "resnet20/pgd10", "resnet18/train", "resnet18/pgd10"])
        XCTAssertEqual(EngineWorkload.named("resnet18/pgd10"),
                       EngineWorkload(model: "resnet18", inputShape: [3, 64, 64], kind: .pgd10, batch: 64))
        XCTAssertEqual(EngineWorkload.named("resnet20/train")?.forwardsPerImage, 3)
    }
}
