import ArgumentParser
import Cluster
import DataParallel

/// The data-parallel options of `rt train` (and of the hidden `rt replica` it starts).
struct DataParallelOptions: ParsableArguments {
    @Option(help: "Data-parallel replicas (processes on this machine), each with --threads threads.")
    var replicas = 1

    @Option(name: .customLong("bucket-kb"), help: "Gradient bucket size in KiB (buckets are summed while backward goes on).")
    var bucketKilobytes = 4096

    @Option(name: .customLong("checksum-every"), help: "Replicas compare a parameter checksum every N steps (0: never).")
    var checksumEvery = 50

    @OptionGroup var heartbeat: HeartbeatOptions

    var settings: DataParallelSettings {
        DataParallelSettings(bucketBytes: bucketKilobytes * 1024, checksumEvery: checksumEvery)
    }

    /// The same options, for a child process.
    var arguments: [String] {
        ["--bucket-kb", "\(bucketKilobytes)", "--checksum-every", "\(checksumEvery)"] + heartbeat.arguments
    }

    func validate() throws {
        guard replicas >= 1 else { throw ValidationError("--replicas must be at least 1, got \(replicas)") }
        guard bucketKilobytes >= 1 else { throw ValidationError("--bucket-kb must be at least 1, got \(bucketKilobytes)") }
        guard checksumEvery >= 0 else { throw ValidationError("--checksum-every must be 0 or more, got \(checksumEvery)") }
    }
}
