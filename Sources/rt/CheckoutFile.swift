import Foundation

/// A file of the repository (a sweep preset, a batch script), looked up in the working
/// directory first, then in every directory above the running `rt` binary, so a build used
/// from anywhere still finds the checkout it was built in.
enum CheckoutFile {
    static func find(_ relative: String, what: String) throws -> String {
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(relative)]
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            candidates.append(directory.appendingPathComponent(relative))
            directory.deleteLastPathComponent()
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw CommandFailure("\(relative) not found in the working directory or above this rt binary; \(what)")
        }
        return found.path
    }
}
