import Yams

/// Bounds the size of a composed YAML document. Yams resolves an alias to the anchored node
/// itself (shared, not copied), so a document of a few lines can stand for billions of nodes
/// that only a walk over it would expand; this walk stops as soon as it has seen `limit`
/// nodes, so checking costs at most `limit` steps whatever the document holds.
enum YAMLExpansion {
    /// nil when `root` expands to at most `limit` nodes; else the node being expanded when
    /// the count passed the limit (its mark is inside the repeated part).
    static func nodeBeyond(_ limit: Int, in root: Node) -> Node? {
        var seen = 0
        // An explicit stack: a deeply nested document must not overflow the thread's stack here.
        var stack: [Node] = [root]
        while let node = stack.popLast() {
            seen += 1
            if seen > limit { return node }
            switch node {
            case .scalar, .alias: break
            case let .sequence(items): stack.append(contentsOf: items)
            case let .mapping(pairs):
                for (key, value) in pairs { stack.append(key); stack.append(value) }
            }
        }
        return nil
    }
}
