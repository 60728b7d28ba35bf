import ArgumentParser
import Cluster
import DataParallel
import Foundation
import Jobs
import Study

/// `rt replica`: one replica of `rt train --replicas k` (rank 1 and up), started by rank 0.
/// Hidden: its arguments are an internal contract between the two.
struct ReplicaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replica",
        abstract: "One data-parallel replica of `rt train --replicas` (started by rt train).",
        shouldDisplay: false)

    @Option(name: .customLong("configuration"), help: "The run's TrainingConfiguration as JSON.") var configurationJSON: String
    @Option(help: "This replica's rank (1 and up; rank 0 is the rt train that started it).") var rank: Int
    @Option(help: "Every rank's ring endpoint, comma-separated, in rank order.") var endpoints: String
    @Option(help: "The ring's session name, the same on every rank.") var session: String
    @OptionGroup var dataParallel: DataParallelOptions

    private var allEndpoints: [String] { endpoints.split(separator: ",").map(String.init) }

    func validate() throws {
        guard rank >= 1, rank < allEndpoints.count else { throw ValidationError("--rank \(rank) is not in 1..<\(allEndpoints.count)") }
    }

    func run() throws {
        SupervisedProcess.bindToParent() // rank 0 started us: we end with it
        let configuration = try JSONDecoder().decode(TrainingConfiguration.self, from: Data(configurationJSON.utf8))
        let all = allEndpoints
        try LogOptions.applyEnvironment(default: .warning)
        let replica = try Replica(rank: rank, worldSize: all.count, bind: all[rank], session: session,
                                  heartbeat: dataParallel.heartbeat.settings, settings: dataParallel.settings)
        _ = try replica.train(configuration, endpoints: all, saveTo: nil)
    }
}

/// `rt train --replicas k` on this machine: this process is rank 0; ranks 1..<k are `rt replica`
/// children, all joined by a ring over ipc:// sockets in the temporary directory.
struct LocalReplicas {
    let configuration: TrainingConfiguration
    let options: DataParallelOptions

    func train(saveTo out: String, report: (TrainingEvent) -> Void) throws -> TrainingSummary {
        let k = options.replicas
        let session = "train-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let directory = FileManager.default.temporaryDirectory.path
        let paths = (0..<k).map { "\(directory)/rt-ring-\(getpid())-\($0).ipc" }
        let endpoints = paths.map { "ipc://\($0)" }
        defer { for path in paths { try? FileManager.default.removeItem(atPath: path) } }
        // Replicas only warn (the ring's lines would cut into the progress bar), unless RT_LOG_LEVEL says otherwise.
        try LogOptions.applyEnvironment(default: .warning)
        // Bind before the children start, so their first hello finds us.
        let replica = try Replica(rank: 0, worldSize: k, bind: endpoints[0], session: session,
                                  heartbeat: options.heartbeat.settings, settings: options.settings)
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let json = String(decoding: try JSONEncoder().encode(configuration), as: UTF8.self)
        var children: [LocalProcess] = []
        defer { children.forEach { $0.terminate() } }
        for rank in 1..<k {
            children.append(try LocalProcess(executable: executable, arguments: [
                "replica", "--configuration", json, "--rank", "\(rank)", "--endpoints", endpoints.joined(separator: ","),
                "--session", session, "--replicas", "\(k)",
            ] + options.arguments, label: "replica \(rank)"))
        }
        let summary = try replica.train(configuration, endpoints: endpoints, saveTo: out, report: report).summary
        // The others finish their last step with us; give them a moment to exit on their own.
        let deadline = Date().addingTimeInterval(options.heartbeat.settings.deadline + 5)
        while children.contains(where: \.isRunning) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if let failed = children.firstIndex(where: { !$0.isRunning && $0.exitStatus != 0 }) {
            throw CommandFailure("replica \(failed + 1) exited with status \(children[failed].exitStatus)")
        }
        return summary
    }
}
