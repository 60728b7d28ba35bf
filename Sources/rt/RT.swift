import ArgumentParser
import Cluster
import Foundation

/// The `rt` command line: thin commands that parse arguments and call the modules.
@main
struct RT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rt",
        abstract: "RobustTransfer: study how pre-training transfers adversarial non-robustness, on a cluster.",
        version: RTVersion.string,
        subcommands: [
            StudyCommand.self,
            EvaluateCommand.self,
            TrainCommand.self,
            EvalCommand.self,
            AttackCommand.self,
            AnalyzeCommand.self,
            BenchCommand.self,
            ReplicaCommand.self,
            KeysCommand.self,
            CoordinatorCommand.self,
            WorkerCommand.self,
            RunCommand.self,
            SlurmCommand.self,
            StatusCommand.self,
            RunsCommand.self,
            ReportCommand.self,
        ]
    )

    /// ArgumentParser's `main()` exits 64 on usage errors and prints usage after any failure;
    /// `CommandExit` gives the statuses of docs/CLI.md.
    static func main() {
        // Any library's Logger writes rt's log lines; RT_LOG_LEVEL is checked before any command runs.
        ClusterLog.bootstrap()
        do { try LogOptions.applyEnvironment(default: .info) } catch {
            FileHandle.standardError.write(Data("rt: \(error)\n".utf8))
            Foundation.exit(CommandExit.usage)
        }
        CommandExit.main(RT.self)
    }
}

enum RTVersion {
    static let string = "0.1.0"
}
