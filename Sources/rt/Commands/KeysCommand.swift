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
        var out: String

        @Flag(name: .long, help: "Replace an existing key pair.")
        var force = false

        func run() throws {
            let directory = URL(fileURLWithPath: out)
            let secret = directory.appendingPathComponent(CurveKeyPair.secretFileName)
            if FileManager.default.fileExists(atPath: secret.path) && !force {
                throw ValidationError("\(secret.path) exists; pass --force to replace the key pair")
            }
            let keys = try CurveKeyPair.generate()
            try keys.write(to: directory)
            print(keys.publicKey)
        }
    }
}

/// Loads the key material the --keys/--allow options point at.
enum KeyOptions {
    static func serverSecurity(keys: String?, allow: String?) throws -> (TransportSecurity, CurveAllowList?) {
        guard let keys else {
            if allow != nil { throw ValidationError("--allow needs --keys (the coordinator's own key pair)") }
            return (.none, nil)
        }
        let pair = try CurveKeyPair.read(from: URL(fileURLWithPath: keys))
        guard let allow else { throw ValidationError("--keys needs --allow DIR: the worker public keys to admit") }
        let list = try CurveAllowList(directory: URL(fileURLWithPath: allow))
        if list.names.isEmpty { throw ValidationError("\(allow) holds no *.key public keys: no worker could connect") }
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
