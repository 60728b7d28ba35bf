import Foundation
import XCTest

extension XCTestCase {
    /// Polls `condition` every 50 ms until it holds (true) or `timeout` seconds pass (false).
    func wait(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return true
    }
}
