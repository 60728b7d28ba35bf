import Cluster
import Foundation

public struct RunDirectoryError: Error, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}

/// Opens the store of an existing run directory for reading. Never creates anything: a
/// mistyped path must be an error, not a new empty store.
public enum RunDirectory {
    public static func openStore(_ runDirectory: String) throws -> RunStore {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: runDirectory, isDirectory: &isDirectory) else {
            throw RunDirectoryError(path: runDirectory, problem: "no such run directory")
        }
        guard isDirectory.boolValue else {
            throw RunDirectoryError(path: runDirectory, problem: "not a directory (give the run directory, e.g. runs/<sweep>)")
        }
        let storePath = RunStore.url(runDirectory: URL(fileURLWithPath: runDirectory)).path
        guard FileManager.default.fileExists(atPath: storePath) else {
            throw RunDirectoryError(path: storePath, problem: "does not exist: \(runDirectory) is not a run directory")
        }
        do {
            let store = try RunStore(path: storePath, readOnly: true)
            // A file that is not SQLite, or SQLite without the run tables, fails here.
            _ = try store.storedSweep()
            _ = try store.counts()
            return store
        } catch {
            throw RunDirectoryError(path: storePath, problem: "not a run store: \((error as? StoreError)?.problem ?? "\(error)")")
        }
    }
}
