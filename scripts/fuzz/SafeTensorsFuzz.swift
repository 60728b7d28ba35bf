// libFuzzer harness for the safetensors reader (scripts/fuzz/run.sh builds it with the
// TensorEngine sources in one binary). Any input may be refused with a TensorError; a crash,
// an overflow trap or a tensor whose size disagrees with its shape is a bug.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func safeTensorsFuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    // Bounded like any checkpoint a job would read: the fuzzer's inputs are small anyway.
    guard let file = try? SafeTensors.decode(Data(bytes: data, count: count), path: "fuzz.safetensors") else { return 0 }
    for (name, tensor) in file.tensors {
        precondition(tensor.count == tensor.shape.reduce(1, *), "tensor \(name): \(tensor.count) elements for shape \(tensor.shape)")
    }
    return 0
}
