// libFuzzer harness for the sweep parser (scripts/fuzz/run.sh builds it with the Sweep sources,
// JSONValue.swift and Yams in one binary). Any input may be refused with a SweepError; what must
// never happen is a crash, a hang, or an accepted sweep that expands past its limit.
import Foundation

private let limits = SweepLimits(maxTrials: 10_000, maxNodes: 100_000, maxFileBytes: 1 << 20)

@_cdecl("LLVMFuzzerTestOneInput")
public func sweepParserFuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    guard let text = try? SweepText.decode(bytes, file: "fuzz.yaml") else { return 0 }
    guard let sweep = try? SweepParser(file: "fuzz.yaml", limits: limits).parse(text) else { return 0 }
    let trials = SweepExpander.expand(sweep)
    precondition(trials.count <= limits.maxTrials, "accepted a sweep of \(trials.count) trials, past its limit of \(limits.maxTrials)")
    precondition(Set(trials.map(\.id)).count == trials.count, "two trials share an id")
    return 0
}
