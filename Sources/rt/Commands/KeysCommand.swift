import ArgumentParser
import Cluster
import Foundation

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "CurveZMQ keys for the cluster.",
        subcommands: [Generate.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a CurveZMQ key pair (Z85 text) as DIR/public.key and DIR/secret.key (0600, in a 0700 DIR).")

        @Option(name: .long, help: "Directory to write the key pair into (created 0700 if missing, narrowed to 0700 if wider).")
        var output: String?

        @Option(name: .long, help: ArgumentHelp("Deprecated spelling of --output.", visibility: .hidden))
        var out: String?

        @Flag(name: .long, help: "Replace an existing key pair.")
        var force = false

        private static let oldOutput = DeprecatedSpelling(command: "rt keys generate", old: "--out", new: "--output")

        func validate() throws {
            try Self.oldOutput.checkNotBoth(output, out)
            if output == nil && out == nil { throw ValidationError("Missing expected argument '--output <output>': the directory for the key pair") }
        }

        func run() throws {
            let directory = URL(fileURLWithPath: Self.oldOutput.value(output, out)!) // validate() checked that one is given
            let secret = directory.appendingPathComponent(CurveKeyPair.secretFileName)
            if FileManager.default.fileExists(atPath: secret.path) && !force {
                throw CommandFailure("\(secret.path) exists; pass --force to replace the key pair")
            }
            let keys = try CurveKeyPair.generate()
            try keys.write(to: directory)
            print(keys.publicKey)
        }
    }
}

/// Loads the key material the --keys/--allow options point at.
enum KeyOptions {
    /// --keys and --allow go together (a server's own key pair, and the clients it admits).
    static func validateServer(keys: String?, allow: String?) throws {
        if keys == nil && allow != nil { throw ValidationError("--allow needs --keys (the coordinator's own key pair)") }
        if keys != nil && allow == nil { throw ValidationError("--keys needs --allow DIR: the worker public keys to admit") }
    }

    /// The security of a server whose `keys` and `allow` `validateServer` accepted.
    static func serverSecurity(keys: String?, allow: String?) throws -> (TransportSecurity, CurveAllowList?) {
        guard let keys else { return (.none, nil) }
        // Never plain TCP because a check was skipped: keys without an allow list is a bug here.
        guard let allow else { preconditionFailure("validateServer accepts --keys only with --allow") }
        let pair = try CurveKeyPair.read(from: URL(fileURLWithPath: keys))
        let list = try CurveAllowList(directory: URL(fileURLWithPath: allow))
        if list.names.isEmpty { throw CommandFailure("\(allow) holds no *.key public keys: no worker could connect") }
        return (.curveServer(pair), list)
    }

    static func clientSecurity(keys: String?, coordinatorKey: String?) throws -> TransportSecurity {
        guard let keys else { return .none }
        let directory = URL(fileURLWithPath: keys)
        let pair = try CurveKeyPair.read(from: directory)
        let serverKeyURL = coordinatorKey.map { URL(fileURLWithPath: $0) } ?? directory.appendingPathComponent(CurveKeyPair.coordinatorFileName)
        return .curveClient(pair, serverPublicKey: try CurveKeyPair.readKey(serverKeyURL))
    }
}
