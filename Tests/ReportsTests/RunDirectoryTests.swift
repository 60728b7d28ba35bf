import Cluster
import Foundation
import XCTest
@testable import Reports

final class RunDirectoryTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rt-rundir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    private func problem(_ path: String) -> String? {
        do {
            _ = try RunDirectory.openStore(path)
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testMissingDirectoryIsNamed() throws {
        let missing = directory.appendingPathComponent("nope").path
        XCTAssertEqual(problem(missing), "\(missing): no such run directory")
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing), "nothing is created")
    }

    func testDirectoryWithoutStoreIsNotARunDirectory() throws {
        let message = try XCTUnwrap(problem(directory.path))
        XCTAssertTrue(message.hasPrefix(RunStore.url(runDirectory: directory).path), message)
        XCTAssertTrue(message.contains("is not a run directory"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: RunStore.url(runDirectory: directory).path), "no store is created")
    }

    func testAFileThatIsNotARunStoreIsRejected() throws {
        let storePath = RunStore.url(runDirectory: directory).path
        try Data("this is not SQLite at all, just text that is long enough to look like a header".utf8).write(to: URL(fileURLWithPath: storePath))
        let message = try XCTUnwrap(problem(directory.path))
        XCTAssertTrue(message.hasPrefix(storePath) && message.contains("not a run store"), message)
    }

    func testAnSQLiteFileWithoutTheRunTablesIsRejected() throws {
        let other = directory.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        // A run store's schema minus everything: an empty SQLite database made by opening and closing one.
        let storePath = RunStore.url(runDirectory: other).path
        try Data().write(to: URL(fileURLWithPath: storePath))
        let message = try XCTUnwrap(problem(other.path))
        XCTAssertTrue(message.contains("not a run store"), message)
    }

    func testARealStoreOpens() throws {
        let fixture = try ThreeRoleStudy.make()
        let store = try RunDirectory.openStore(fixture.directory.path)
        XCTAssertEqual(try store.counts()[.done], 11)
    }
}
