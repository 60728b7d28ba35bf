import Foundation
import XCTest
@testable import Cluster

/// Secret keys are created 0600 in a 0700 directory and are never wider at any moment (issue 13:
/// another user read a live key 2,295 times during 150 `--force` runs of the old writer).
final class KeyFileTests: XCTestCase {
    private var temporary: TemporaryDirectory!

    override func setUpWithError() throws {
        temporary = try TemporaryDirectory(prefix: "rt-keys")
        guard ZMQContext.hasCurve else { throw XCTSkip("this libzmq has no CurveZMQ") }
    }
    override func tearDown() { temporary.remove() }

    private func mode(_ path: String) -> mode_t {
        var status = stat()
        return lstat(path, &status) == 0 ? status.st_mode & 0o777 : 0
    }

    func testTheSecretIs0600InA0700DirectoryEvenWhenTheDirectoryWasWider() throws {
        let directory = temporary.url.appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let previous = umask(0)  // the most permissive umask a user could have
        defer { umask(previous) }
        let pair = try CurveKeyPair.generate()
        try pair.write(to: directory)
        XCTAssertEqual(mode(directory.path), 0o700)
        XCTAssertEqual(mode(directory.appendingPathComponent(CurveKeyPair.secretFileName).path), 0o600)
        XCTAssertEqual(mode(directory.appendingPathComponent(CurveKeyPair.publicFileName).path), 0o644)
        XCTAssertEqual(try CurveKeyPair.read(from: directory), pair)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), ["public.key", "secret.key"],
                       "no temporary file is left behind")
    }

    func testReplacingKeysNeverShowsAWiderFile() throws {
        let directory = temporary.url.appendingPathComponent("nested/keys")
        let previous = umask(0)
        defer { umask(previous) }
        try CurveKeyPair.generate().write(to: directory)
        // Watch every entry of the directory while the pair is replaced again and again: no
        // file that holds a secret (the key or a temporary) may ever be readable by others.
        let watch = Watch()
        let watcher = Thread {
            while !watch.isDone {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.contains("secret") {
                    var status = stat()
                    guard lstat(directory.appendingPathComponent(name).path, &status) == 0 else { continue }
                    if status.st_mode & 0o077 != 0 { watch.saw("\(name) \(String(status.st_mode & 0o777, radix: 8))") }
                }
            }
        }
        watcher.start()
        for _ in 0..<100 { try CurveKeyPair.generate().write(to: directory) }
        watch.finish()
        while !watcher.isFinished { usleep(1000) }
        XCTAssertEqual(watch.wider, [])
        XCTAssertEqual(mode(directory.path), 0o700)
    }
}

/// What the watching thread saw, and whether it should stop.
private final class Watch: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private var seen: [String] = []
    var isDone: Bool { lock.lock(); defer { lock.unlock() }; return done }
    var wider: [String] { lock.lock(); defer { lock.unlock() }; return seen }
    func finish() { lock.lock(); done = true; lock.unlock() }
    func saw(_ entry: String) { lock.lock(); seen.append(entry); lock.unlock() }
}
