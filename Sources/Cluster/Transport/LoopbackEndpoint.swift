import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whether a tcp endpoint can only be reached from this machine, decided by the addresses its
/// host stands for, never by its text: `tcp://127.evil:5555` binds to whatever an interface
/// named `127.evil` holds, which may well be a routable address.
///
/// libzmq resolves a bind host as an interface name first, then as an address, so this does
/// the same: the addresses of the interface of that name if there is one, else what
/// getaddrinfo returns (names such as `localhost` included). Every address must be in
/// 127.0.0.0/8 or be ::1; a host with no address at all is not local.
public enum LoopbackEndpoint {
    public static func isLocal(_ endpoint: String) -> Bool {
        if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
        guard let host = host(of: endpoint) else { return false }
        let addresses = interfaceAddresses(named: host) ?? resolvedAddresses(of: host)
        return !addresses.isEmpty && addresses.allSatisfy(isLoopback)
    }

    /// The host of `tcp://HOST:PORT` (brackets of an IPv6 literal removed); nil for another
    /// transport, a missing port, or libzmq's `source;destination` form.
    static func host(of endpoint: String) -> String? {
        guard endpoint.hasPrefix("tcp://") else { return nil }
        let rest = endpoint.dropFirst("tcp://".count)
        guard let colon = rest.lastIndex(of: ":") else { return nil }
        var host = String(rest[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(";") else { return nil }
        return host
    }

    /// A raw IPv4 (4 bytes) or IPv6 (16 bytes) address.
    typealias Address = [UInt8]

    static func isLoopback(_ address: Address) -> Bool {
        switch address.count {
        case 4: return address[0] == 127
        case 16: return address.dropLast().allSatisfy { $0 == 0 } && address[15] == 1
        default: return false
        }
    }

    /// Every entry the kernel lists (getifaddrs), in its order; `address` is nil for one that is
    /// not IPv4 or IPv6 (the link-layer entry every interface has).
    static func interfaces() -> [(name: String, isUp: Bool, address: Address?)] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        return sequence(first: first, next: { $0.pointee.ifa_next }).map { entry in
            (String(cString: entry.pointee.ifa_name), Int32(entry.pointee.ifa_flags) & Int32(IFF_UP) != 0, entry.pointee.ifa_addr.flatMap(bytes))
        }
    }

    /// The IPv4 and IPv6 addresses of the interface named `name`, nil when no interface has that name.
    static func interfaceAddresses(named name: String) -> [Address]? {
        let entries = interfaces().filter { $0.name == name }
        return entries.isEmpty ? nil : entries.compactMap(\.address)
    }

    /// Every address getaddrinfo gives for `host` (an address literal or a name).
    static func resolvedAddresses(of host: String) -> [Address] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(result) }
        return sequence(first: first, next: { $0.pointee.ai_next }).compactMap { $0.pointee.ai_addr.flatMap(bytes) }
    }

    private static func bytes(_ address: UnsafeMutablePointer<sockaddr>) -> Address? {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                withUnsafeBytes(of: inet.pointee.sin_addr) { Array($0) }
            }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { inet6 in
                withUnsafeBytes(of: inet6.pointee.sin6_addr) { Array($0) }
            }
        default:
            return nil
        }
    }
}
