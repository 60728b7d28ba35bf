import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The endpoint a worker dials, as recorded in `coordinator.json`: what the coordinator bound,
/// with a wildcard host (`tcp://0.0.0.0:5555`, `tcp://*:5555`) replaced, since no worker can
/// dial a wildcard. An explicit `--advertise` (a host, or a whole endpoint) wins; otherwise the
/// machine's first non-loopback IPv4 address stands in, and only without one its host name
/// (which on many machines resolves to 127.0.1.1, useless to another host).
public enum AdvertisedEndpoint {
    public static func resolve(bound: String, advertise: String?) -> String {
        guard bound.hasPrefix("tcp://"), let colon = bound.lastIndex(of: ":"), colon > bound.index(bound.startIndex, offsetBy: 6) else {
            return bound
        }
        let host = String(bound[bound.index(bound.startIndex, offsetBy: 6)..<colon])
        let port = String(bound[bound.index(after: colon)...])
        if let advertise, !advertise.isEmpty {
            return advertise.contains("://") ? advertise : "tcp://\(advertise):\(port)"
        }
        guard host == "0.0.0.0" || host == "*" || host == "[::]" else { return bound }
        return "tcp://\(firstExternalIPv4() ?? ProcessInfo.processInfo.hostName):\(port)"
    }

    /// True for 127.0.0.0/8, ::1 and `localhost`: an address only this machine can reach.
    public static func isLoopback(host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// The address of the first interface that is up and not loopback, in the kernel's order.
    static func firstExternalIPv4() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            let flags = Int32(entry.pointee.ifa_flags)
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                  flags & Int32(IFF_UP) != 0, flags & Int32(IFF_LOOPBACK) == 0 else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            let ok = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet -> Bool in
                var raw = inet.pointee.sin_addr
                return inet_ntop(AF_INET, &raw, &text, socklen_t(INET_ADDRSTRLEN)) != nil
            }
            if ok { return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        }
        return nil
    }
}
