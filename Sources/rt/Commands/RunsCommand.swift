import ArgumentParser
import Cluster
import Foundation

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Runs stored on this machine.",
        subcommands: [List.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List run directories with their trial counts.")

        @Option(name: .long, help: "Directory that holds the run directories.")
        var runs: String = "runs"

        @Flag(name: .long, help: "Print one JSON object per run (JSON Lines; nothing when there is none) instead of text.")
        var json = false

        /// One run directory as `--json` prints it.
        struct Entry: Encodable {
            var runDirectory: String
            /// Trials per state, every state named.
            var counts: [String: Int]
            /// The endpoint of a live coordinator on this host, from its coordinator.json.
            var liveAt: String?
            /// The coordinator that holds the run (its lock, or a live owner on another host).
            var servedBy: String?
        }

        func run() throws {
            let root = URL(fileURLWithPath: runs)
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted()
            var any = false
            for name in names {
                let directory = root.appendingPathComponent(name)
                let storeURL = RunStore.url(runDirectory: directory)
                guard FileManager.default.fileExists(atPath: storeURL.path) else { continue }
                any = true
                let counts = (try? RunStore(path: storeURL.path, readOnly: true).counts()) ?? [:]
                var entry = Entry(runDirectory: directory.path,
                                  counts: Dictionary(uniqueKeysWithValues: TrialState.allCases.map { ($0.rawValue, counts[$0] ?? 0) }))
                entry.liveAt = RunsCommand.coordinatorInfo(directory).flatMap { RunsCommand.isAlive($0) ? $0.endpoint : nil }
                // The lock's holder, or the store's record of a live owner on another host.
                if case let .runHeld(_, holder)? = RunLock.refusal(for: directory) {
                    entry.servedBy = holder?.description ?? "a starting coordinator"
                } else if let owner = try? RunStore(path: storeURL.path, readOnly: true).owner(), owner.host != ProcessInfo.processInfo.hostName,
                          Date().timeIntervalSince1970 - (owner.heartbeatAt ?? 0) < 15 {
                    entry.servedBy = owner.description
                }
                if json { try JSONLines.print(entry); continue }
                let text = TrialState.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
                print("\(directory.path): \(text)" + (entry.liveAt.map { " live at \($0)" } ?? "") + (entry.servedBy.map { ", served by \($0)" } ?? ""))
            }
            if !any && !json { print("no runs under \(root.path)") }
        }
    }

    static func coordinatorInfo(_ runDirectory: URL) -> CoordinatorInfo? {
        guard let data = try? Data(contentsOf: runDirectory.appendingPathComponent(CoordinatorInfo.fileName)) else { return nil }
        return try? ClusterJSON.decode(CoordinatorInfo.self, from: data)
    }

    static func isAlive(_ info: CoordinatorInfo) -> Bool {
        info.host == ProcessInfo.processInfo.hostName && kill(info.pid, 0) == 0
    }

    /// Coordinators on this host whose process is alive, newest first.
    static func liveCoordinators(runs: String) -> [CoordinatorInfo] {
        let root = URL(fileURLWithPath: runs)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.compactMap { coordinatorInfo(root.appendingPathComponent($0)) }.filter(isAlive).sorted { $0.startedAt > $1.startedAt }
    }
}
