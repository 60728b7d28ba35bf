import Cluster
import Foundation
import Logging
import XCTest

/// The cluster's log lines (apple/swift-log with `ClusterLogHandler`): what users and the process
/// tests read, a level set once per process, and metadata (trial, worker) on the line.
final class ClusterLogTests: XCTestCase {
    /// Lines a handler wrote, kept in memory.
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var kept: [String] = []
        func append(_ line: String) { lock.lock(); kept.append(line); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return kept }
    }

    private var savedLevel = Logger.Level.info

    override func setUp() { savedLevel = ClusterLog.level }
    override func tearDown() { ClusterLog.level = savedLevel }

    private func logger(_ component: String, into lines: Lines) -> Logger {
        Logger(label: component, factory: { ClusterLogHandler(label: $0, write: { lines.append($0) }) })
    }

    func testALineHasTheUTCTimeTheComponentTheLevelTheMessageAndSortedMetadata() {
        // 2026-12-08 01:02:03.456 UTC
        let time = Date(timeIntervalSince1970: 1_796_691_723 + 0.4565)
        let line = ClusterLogHandler.line(time: time, label: "coordinator", level: .warning, message: "w1 presumed dead",
                                          metadata: ["worker": "w1", "trial": "s/3"])
        XCTAssertEqual(line, "2026-12-08T01:02:03.456Z coordinator warning: w1 presumed dead [trial=s/3 worker=w1]\n")
        XCTAssertEqual(ClusterLogHandler.line(time: time, label: "zap", level: .info, message: "m", metadata: [:]),
                       "2026-12-08T01:02:03.456Z zap info: m\n")
    }

    /// The time is ISO 8601 as Foundation's own formatter writes it, at any instant (no rounding up to 1000 ms).
    func testTheTimestampAgreesWithISO8601DateFormatter() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        for seconds in [0.0, 0.9995, 1_796_691_723.999_9, 951_782_400.25 /* 2000-02-29 */, 4_102_444_799.5] {
            let date = Date(timeIntervalSince1970: seconds)
            let ours = UTCTimestamp.iso8601(date)
            let parsed = formatter.date(from: ours)
            XCTAssertNotNil(parsed, ours)
            XCTAssertEqual(parsed?.timeIntervalSince1970 ?? -1, (seconds * 1000).rounded(.down) / 1000, accuracy: 1e-6, ours)
        }
        XCTAssertEqual(UTCTimestamp.iso8601(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00.000Z")
    }

    func testTheProcessLevelFiltersEveryLoggerAndALoggersOwnLevelWins() {
        let lines = Lines()
        var log = logger("worker", into: lines)
        log[metadataKey: "worker"] = "w1"
        ClusterLog.level = .warning
        log.info("not shown")
        log.warning("shown", metadata: ["trial": "t/1"])
        ClusterLog.level = .debug
        log.debug("shown too")
        var own = logger("ring", into: lines)
        own.logLevel = .error
        own.warning("below this logger's own level")
        XCTAssertEqual(lines.all.count, 2, "\(lines.all)")
        XCTAssertTrue(lines.all[0].hasSuffix(" worker warning: shown [trial=t/1 worker=w1]\n"), lines.all[0])
        XCTAssertTrue(lines.all[1].hasSuffix(" worker debug: shown too [worker=w1]\n"), lines.all[1])
    }

    func testLevelsAreReadFromTheEnvironmentByName() throws {
        XCTAssertNil(try ClusterLog.environmentLevel([:]))
        XCTAssertNil(try ClusterLog.environmentLevel([ClusterLog.environmentKey: ""]))
        XCTAssertEqual(try ClusterLog.environmentLevel([ClusterLog.environmentKey: "Debug"]), .debug)
        XCTAssertThrowsError(try ClusterLog.environmentLevel([ClusterLog.environmentKey: "loud"])) { error in
            XCTAssertEqual("\(error)", "RT_LOG_LEVEL: unknown log level 'loud'; known: trace, debug, info, notice, warning, error, critical")
        }
    }
}
