import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine and its parts.",
        subcommands: [BenchEngineCommand.self, BenchSgemmCommand.self, BenchLoaderCommand.self, BenchClusterCommand.self,
                      BenchAllreduceCommand.self, BenchDataParallelCommand.self]
    )
}
