import TensorEngine

/// A 64-bit FNV-1a hash of the parameters' bit patterns, in order. Replicas compare it to catch
/// any divergence (a nondeterministic kernel, a lost update) the step it shows, not at the end.
enum ParameterChecksum {
    static func of(_ parameters: [(String, Tensor)]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for (_, p) in parameters {
            let values = p.pointer
            for i in 0..<p.count { hash = (hash ^ UInt64(values[i].bitPattern)) &* 0x0000_0100_0000_01B3 }
        }
        return hash
    }

    static func bytes(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    static func value(_ bytes: [UInt8]) -> UInt64 {
        bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * $1.offset) }
    }
}
