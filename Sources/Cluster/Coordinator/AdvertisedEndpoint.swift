import Foundation

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

    /// The address of the first interface that is up and not loopback, in the kernel's order.
    static func firstExternalIPv4() -> String? {
        LoopbackEndpoint.interfaces().lazy.filter(\.isUp).compactMap(\.address)
            .first { $0.count == 4 && !LoopbackEndpoint.isLoopback($0) }
            .map { $0.map(String.init).joined(separator: ".") }
    }
}
