import Foundation
import XCTest
@testable import Cluster

/// scripts/cluster/launch-ssh.sh against real sshd's: three network-namespace hosts
/// (scripts/cluster/sshd-hosts.sh), the launcher on host 0, an sshd on hosts 1 and 2. The
/// work is split across both, a host that vanishes is named, Ctrl-C then the same command
/// again continues the run, and bad input fails before anything starts. Needs root; skipped
/// (with the reason) otherwise.
final class SSHProcessTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var hostsDirectory: URL?
    static var skipReason: String?
    /// Host namespaces (0: the launcher's) and each host's link at the switch.
    static var namespaces: [String] = [], links: [String] = [], switchNamespace = ""
    var directory: URL!

    override class func setUp() {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rt-sshd-\(getpid())")
        let script = repository.appendingPathComponent("scripts/cluster/sshd-hosts.sh").path
        // Installing OpenSSH on a fresh machine takes a while.
        let up = ShellCommand(command: """
            source \(ShellCommand.quoted(script)) && sshd_hosts_up \(ShellCommand.quoted(dir.path)) 3 \
            && echo "${NETNS_HOST[*]}" && echo "${NETNS_PORT[*]}" && echo "$NETNS_SWITCH"
            """, timeout: 600).run()
        let lines = up.output.split(separator: "\n").map(String.init)
        guard up.status == 0, lines.count >= 3 else {
            skipReason = up.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if up.status != 77 { tearDownHosts(dir) }
            return
        }
        hostsDirectory = dir
        namespaces = lines[lines.count - 3].split(separator: " ").map(String.init)
        links = lines[lines.count - 2].split(separator: " ").map(String.init)
        switchNamespace = lines[lines.count - 1]
    }

    override class func tearDown() {
        if let dir = hostsDirectory { tearDownHosts(dir) }
    }

    static func tearDownHosts(_ dir: URL) {
        let script = repository.appendingPathComponent("scripts/cluster/sshd-hosts.sh").path
        _ = ShellCommand(command: "source \(ShellCommand.quoted(script)) && sshd_hosts_down \(ShellCommand.quoted(dir.path))").run()
        try? FileManager.default.removeItem(at: dir)
    }

    override func setUpWithError() throws {
        guard Self.hostsDirectory != nil else { throw XCTSkip(Self.skipReason ?? "no ssh hosts") }
        _ = try ProcessHarness.rtBinary()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-ssh-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if (testRun?.failureCount ?? 0) > 0 {
            print(ShellCommand(command: "tail -n 30 ssh-logs/*/*.log", directory: directory).run().text)
            print("test files kept in \(directory.path)")
        } else if let directory {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    // MARK: Launching

    /// `launch-ssh.sh ARGUMENTS` on host 0, from the test directory.
    func launcher(_ arguments: [String], environment extra: [String: String] = [:], keyboard: URL? = nil) throws -> ShellCommand {
        var environment = ProcessInfo.processInfo.environment
        environment["RT_BINARY"] = try ProcessHarness.rtBinary().path
        environment["RT_SSH_OPTIONS"] = "-F \(Self.hostsDirectory!.appendingPathComponent("ssh_config").path)"
        environment["RT_REMOTE_KEYS"] = directory.appendingPathComponent("remote-keys").path // not the real ~/.rt-keys
        environment.merge(extra) { $1 }
        let script = Self.repository.appendingPathComponent("scripts/cluster/launch-ssh.sh").path
        var command = (["ip", "netns", "exec", Self.namespaces[0], "bash", script] + arguments).map(ShellCommand.quoted).joined(separator: " ")
        if let keyboard {
            // A terminal (script(1)) whose keyboard is a FIFO the test writes to.
            command = "exec script -qfec \(ShellCommand.quoted(command)) /dev/null < \(ShellCommand.quoted(keyboard.path))"
        }
        return ShellCommand(command: command, environment: environment, directory: directory, timeout: 180)
    }

    func writeSweep(_ name: String, trials: Int, seconds: Double, retries: Int = 0) throws -> URL {
        let url = directory.appendingPathComponent("\(name).yaml")
        try SweepText.sleep(name, trials: trials, seconds: seconds, retries: retries).write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func writeHosts(_ lines: [String]) throws -> URL {
        let url = directory.appendingPathComponent("hosts.txt")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func store(_ name: String) throws -> RunStore {
        try RunStore(path: RunStore.url(runDirectory: directory.appendingPathComponent("runs/\(name)")).path, readOnly: true)
    }

    func doneCount(_ name: String) -> Int { ((try? store(name).counts()) ?? [:])[.done] ?? 0 }

    /// Live processes in host i's namespace other than its sshd (zombies of an init that does
    /// not reap are not running).
    func strayProcesses(onHost i: Int) -> [String] {
        let list = "for p in $(ip netns pids \(Self.namespaces[i])); do [ \"$(awk '{print $3}' /proc/$p/stat)\" = Z ] || cat /proc/$p/comm; done"
        return ShellCommand(command: list).run().output.split(separator: "\n").map(String.init).filter { $0 != "sshd" }
    }

    /// The writing end of a FIFO once its reader has opened it, or nil after `timeout` (a reader
    /// that never came must not hang the test).
    func openForWriting(fifo: URL, timeout: TimeInterval) -> FileHandle? {
        var descriptor: Int32 = -1
        _ = ProcessHarness.waitUntil(timeout: timeout) {
            descriptor = open(fifo.path, O_WRONLY | O_NONBLOCK)
            return descriptor >= 0
        }
        guard descriptor >= 0 else { return nil }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    func assertNothingLeftOnTheHosts(file: StaticString = #filePath, line: UInt = #line) {
        // A session whose client is gone ends within sshd's ClientAlive window (6 s).
        let clean = ProcessHarness.waitUntil(timeout: 15) { (0..<3).allSatisfy { self.strayProcesses(onHost: $0).isEmpty } }
        XCTAssertTrue(clean, "left running: \((0..<3).map { self.strayProcesses(onHost: $0) })", file: file, line: line)
    }

    // MARK: Tests

    func testTheSweepIsSplitAcrossBothHostsAndEveryTrialIsDoneOnce() throws {
        let sweep = try writeSweep("split", trials: 40, seconds: 0.2)
        let outcome = try launcher([sweep.path, try writeHosts(["h1 2", "# the second host", "h2"]).path]).run()
        XCTAssertEqual(outcome.status, 0, outcome.text)
        try StoreChecks.assertAllDoneExactlyOnce(try store("split"), count: 40, context: outcome.text)
        XCTAssertEqual(Set(try store("split").report().trials.compactMap(\.worker)), ["h1", "h2"])
        for log in ["coordinator.log", "worker-h1.log", "worker-h2.log"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("ssh-logs/split/\(log)").path), log)
        }
        let info = try JSONDecoder().decode(CoordinatorInfo.self, from: Data(contentsOf: directory.appendingPathComponent("runs/split/coordinator.json")))
        XCTAssertEqual(info.endpoint, "tcp://10.213.0.1:5555", "the address the hosts dial, not 0.0.0.0")
        assertNothingLeftOnTheHosts()
    }

    /// Host 2's link cut mid-sweep: its worker is lost, restarted once in vain and named; host 1
    /// finishes the sweep, with every trial done once.
    func testAHostThatVanishesIsNamedAndTheOtherFinishesTheSweep() throws {
        let sweep = try writeSweep("lost", trials: 40, seconds: 0.5, retries: 1) // the lost host's trial runs again
        let running = try launcher(["--ssh-timeout", "2", sweep.path, try writeHosts(["h1", "h2"]).path],
                                   environment: ["RT_SSH_ALIVE": "1", "RT_WORKER_RESTARTS": "1"]).start()
        let cut = "ip -n \(Self.switchNamespace) link set \(Self.links[2])"
        defer { _ = ShellCommand(command: "\(cut) up").run() }
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 60) { self.doneCount("lost") >= 4 }, running.output)
        XCTAssertEqual(ShellCommand(command: "\(cut) down").run().status, 0)
        let outcome = running.wait(timeout: 120)
        XCTAssertEqual(outcome.status, 5, outcome.text)
        XCTAssertTrue(outcome.text.contains("worker failed on host h2 (lost its ssh connection"), outcome.text)
        XCTAssertFalse(outcome.text.contains("worker failed on host h1"), outcome.text)
        try StoreChecks.assertAllDoneExactlyOnce(try store("lost"), count: 40, context: outcome.text)
        _ = ShellCommand(command: "\(cut) up").run()
        assertNothingLeftOnTheHosts()
    }

    /// Ctrl-C at the launcher's terminal: a clean stop (exit 130, the command to continue), no
    /// process left on any host; the same command again finishes the run, every trial done once.
    func testCtrlCStopsCleanlyAndTheSameCommandContinues() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs util-linux's script(1) for a pseudo-terminal")
        let sweep = try writeSweep("again", trials: 16, seconds: 1)
        let hosts = try writeHosts(["h1", "h2"])
        let keyboardURL = directory.appendingPathComponent("keyboard")
        XCTAssertEqual(mkfifo(keyboardURL.path, 0o600), 0)
        let running = try launcher([sweep.path, hosts.path], keyboard: keyboardURL).start()
        let keyboard = try XCTUnwrap(openForWriting(fifo: keyboardURL, timeout: 10), running.output)
        XCTAssertTrue(ProcessHarness.waitUntil(timeout: 60) { self.doneCount("again") >= 3 }, running.output)
        keyboard.write(Data([0x03]))
        let stopped = running.wait(timeout: 40)
        try keyboard.close()
        XCTAssertEqual(stopped.status, 130, stopped.text)
        XCTAssertTrue(stopped.text.contains("continue with:"), stopped.text)
        assertNothingLeftOnTheHosts()
        let counts = try store("again").counts()
        XCTAssertEqual(counts[.leased] ?? 0, 0, "no trial is left leased")
        XCTAssertLessThan(counts[.done] ?? 0, 16)

        let again = try launcher([sweep.path, hosts.path]).run()
        XCTAssertEqual(again.status, 0, again.text)
        try StoreChecks.assertAllDoneExactlyOnce(try store("again"), count: 16, context: again.text)
        XCTAssertTrue(try store("again").events().contains { $0.kind == "interrupted" }, "the running trials were handed back")
    }

    /// Mistakes fail before anything starts, naming what is wrong, and write no run.
    func testBadInputFailsBeforeAnythingStartsNamingTheCulprit() throws {
        let sweep = try writeSweep("bad", trials: 4, seconds: 0.1)
        let cases: [(arguments: [String], hosts: [String], environment: [String: String], message: String)] = [
            (["--ssh-timeout", "2"], ["h1", "root@10.213.0.9"], [:], "host root@10.213.0.9: ssh failed (status 255) within --ssh-timeout 2 s"),
            (["--advertise", "localhost"], ["h1"], [:], "--advertise localhost is the loopback address 127.0.0.1, which host h1 (reached at 10.213.0.2) cannot dial"),
            ([], ["h1"], ["RT_REMOTE": "/nonexistent/rt"], "host h1: no executable rt at /nonexistent/rt there"),
            ([], ["h1 two"], [:], "hosts.txt:1: slots must be a whole number >= 1, got 'two'"),
        ]
        for (arguments, hosts, environment, message) in cases {
            let outcome = try launcher(arguments + [sweep.path, try writeHosts(hosts).path], environment: environment).run()
            XCTAssertEqual(outcome.status, 2, outcome.text)
            XCTAssertTrue(outcome.text.contains(message), "expected '\(message)' in: \(outcome.text)")
        }
        try "name: broken\n".write(to: directory.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        let broken = try launcher([directory.appendingPathComponent("broken.yaml").path, try writeHosts(["h1"]).path]).run()
        XCTAssertEqual(broken.status, 2, broken.text)
        XCTAssertTrue(broken.text.contains("broken.yaml:1:1: stages"), broken.text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("runs").path), "no run was written")
    }
}
