import Foundation
import GRDB

/// Recognises "out of space" however it surfaces: a POSIX ENOSPC or EDQUOT (a write, a rename),
/// Foundation's NSFileWriteOutOfSpaceError, or SQLite's SQLITE_FULL. The coordinator stops
/// leasing on the first one instead of failing trial after trial (`Coordinator.haltForFullDisk`).
enum DiskFull {
    static func matches(_ error: Error) -> Bool {
        if let artifact = error as? ArtifactError { return artifact.outOfSpace }
        if let database = error as? DatabaseError { return database.resultCode == .SQLITE_FULL }
        return matches(error as NSError)
    }

    private static func matches(_ error: NSError) -> Bool {
        if error.domain == NSPOSIXErrorDomain && (error.code == Int(ENOSPC) || error.code == Int(EDQUOT)) { return true }
        if error.domain == NSCocoaErrorDomain && error.code == NSFileWriteOutOfSpaceError { return true }
        return (error.userInfo[NSUnderlyingErrorKey] as? NSError).map(matches) ?? false
    }
}
