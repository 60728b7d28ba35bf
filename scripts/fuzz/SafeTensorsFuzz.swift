// libFuzzer harness for the safetensors header reader (scripts/fuzz/run.sh builds it with
// SafeTensorsHeader.swift and TensorError.swift alone). Any input may be refused with a
// TensorError; a crash or an overflow trap is a bug, and so is an accepted entry whose bytes
// lie outside the file or are not exactly its shape's elements: `SafeTensors.decode` copies
// each tensor from its entry's bytes relying on exactly that.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func safeTensorsFuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let file = Data(bytes: data, count: count)
    let header: SafeTensorsHeader
    do { header = try SafeTensorsHeader.read(file, path: "fuzz.safetensors") } catch {
        precondition(error is TensorError, "refused with \(error), not a TensorError")
        return 0
    }
    for entry in header.entries {
        precondition(entry.bytes.lowerBound >= file.startIndex + 8 && entry.bytes.upperBound <= file.endIndex,
                     "tensor \(entry.name): bytes \(entry.bytes) outside the file of \(count) bytes")
        precondition(entry.count == entry.shape.reduce(1, *) && entry.bytes.count == entry.count * entry.width,
                     "tensor \(entry.name): \(entry.bytes.count) bytes for shape \(entry.shape) of \(entry.dtype)")
    }
    return 0
}
