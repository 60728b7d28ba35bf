import ArgumentParser
import Foundation

struct SlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Run sweeps as Slurm jobs (cluster/slurm/rt.sbatch).",
        subcommands: [SlurmSubmitCommand.self])
}

/// `sbatch cluster/slurm/rt.sbatch SWEEP` with the checks a user would otherwise learn about
/// from a failed job: the sweep is checked first, Slurm's refusal is reported in its own words,
/// and the job runs this very rt build.
struct SlurmSubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Check a sweep, then submit it as one Slurm job (and extra workers as a job array).",
        discussion: """
            Runs `sbatch [options] cluster/slurm/rt.sbatch SWEEP` (see docs/CLUSTER.md, "Slurm") with RT_BINARY set to \
            this rt, after checking the sweep as `rt coordinator --check` does: a sweep that does not parse, or names a \
            job this build does not know, is rejected before sbatch is called. With --array-workers M, a job array of M \
            extra workers (cluster/slurm/rt-workers.sbatch) joins the job's coordinator once it runs, so the sweep grows \
            while it runs. Arguments after `--` go to both sbatch calls unchanged. Exit status: 0 submitted, 2 when \
            sbatch refused (its message is printed), 1 for a bad sweep.
            """)

    @Argument(help: "The sweep file (YAML).")
    var sweep: String

    @Option(name: .long, help: "Nodes of the allocation (sbatch --nodes).")
    var nodes: Int?

    @Option(name: .long, help: "Tasks, that is workers, in all (sbatch --ntasks).")
    var ntasks: Int?

    @Option(name: .customLong("ntasks-per-node"), help: "Workers per node (sbatch --ntasks-per-node).")
    var ntasksPerNode: Int?

    @Option(name: .customLong("cpus-per-task"), help: "CPUs per worker; each worker runs this many trials at once (sbatch --cpus-per-task).")
    var cpusPerTask: Int?

    @Option(name: .long, help: "Time limit, e.g. 4:00:00 (sbatch --time). The job stops cleanly 2 minutes before it and requeues itself.")
    var time: String?

    @Option(name: .long, help: "Partition (sbatch --partition).")
    var partition: String?

    @Option(name: .customLong("array-workers"), help: "Extra workers as a job array that joins the job's coordinator.")
    var arrayWorkers: Int?

    @Flag(name: .customLong("dry-run"), help: "Print the sbatch commands instead of running them.")
    var dryRun = false

    @Argument(parsing: .postTerminator, help: "More sbatch options, after --.")
    var sbatchOptions: [String] = []

    func validate() throws {
        for (name, value) in [("--nodes", nodes), ("--ntasks", ntasks), ("--ntasks-per-node", ntasksPerNode),
                              ("--cpus-per-task", cpusPerTask), ("--array-workers", arrayWorkers)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1, got \(value)") }
        }
    }

    func run() throws {
        let check = try SweepCheck.summary(of: sweep)
        print(check.line)
        let script = try CheckoutFile.find("cluster/slurm/rt.sbatch", what: "run rt from its checkout")
        var resources: [String] = []
        if let nodes { resources.append("--nodes=\(nodes)") }
        if let ntasks { resources.append("--ntasks=\(ntasks)") }
        if let ntasksPerNode { resources.append("--ntasks-per-node=\(ntasksPerNode)") }
        if let cpusPerTask { resources.append("--cpus-per-task=\(cpusPerTask)") }
        if let time { resources.append("--time=\(time)") }
        let shared = (partition.map { ["--partition=\($0)"] } ?? []) + sbatchOptions
        let job = try sbatch(["--parsable"] + resources + shared + [script, sweep], "the sweep's job")
        let jobDirectory = ProcessInfo.processInfo.environment["RT_JOB_DIR"] ?? "slurm-jobs"
        if !dryRun { print("submitted job \(job): sweep \(check.spec.name) in runs/\(check.spec.name); logs in rt-\(job).out and \(jobDirectory)/\(job)/") }
        guard let arrayWorkers else { return }
        let workers = try CheckoutFile.find("cluster/slurm/rt-workers.sbatch", what: "run rt from its checkout")
        let logs = "\(jobDirectory)/\(job)"
        if !dryRun { try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true) }
        let perWorker = cpusPerTask.map { ["--cpus-per-task=\($0)"] } ?? []
        // No --dependency=after:JOB: Slurm re-evaluates it only on its periodic pass (up to a
        // minute); the array tasks wait for the job's coordinator themselves.
        let array = try sbatch(["--parsable", "--array=0-\(arrayWorkers - 1)", "--output=\(logs)/array-%a.log"] + perWorker + (time.map { ["--time=\($0)"] } ?? []) + shared
                               + [workers, job], "the extra workers")
        if !dryRun { print("submitted \(arrayWorkers) extra worker\(arrayWorkers == 1 ? "" : "s") as array job \(array); they join job \(job) once it runs (logs in \(logs)/array-*.log)") }
    }

    /// Runs sbatch (or prints it with --dry-run); the job id, or exit 2 with Slurm's message.
    private func sbatch(_ arguments: [String], _ what: String) throws -> String {
        if dryRun {
            print((["sbatch"] + arguments).map(Self.quoted).joined(separator: " "))
            return "DRYRUN"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sbatch"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["RT_BINARY"] = environment["RT_BINARY"] ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        process.environment = environment
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch {
            Notice.say("cannot run sbatch: \(error); is Slurm installed here?")
            throw ExitCode(2)
        }
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let refused = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let id = printed.split(separator: "\n").last.map({ String($0.split(separator: ";")[0]) }), !id.isEmpty else {
            let reason = refused.trimmingCharacters(in: .whitespacesAndNewlines)
            Notice.say("sbatch refused \(what) (status \(process.terminationStatus)): \(reason.isEmpty ? printed : reason)")
            throw ExitCode(2)
        }
        return id
    }

    private static func quoted(_ word: String) -> String {
        word.allSatisfy({ $0.isLetter || $0.isNumber || "-_=./:,%@".contains($0) }) ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
