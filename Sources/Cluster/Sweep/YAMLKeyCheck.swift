import CYaml

/// Finds a mapping key that is not text (an alias, a list or a mapping) from libyaml's events,
/// before Yams composes the document. Yams compares the keys of every mapping it builds
/// (duplicate keys are an error) by hashing each whole: a key that is an alias of an "alias
/// bomb" is hashed through all of its billions of nodes, a hang the expansion limit
/// (`YAMLExpansion`, checked after composing) never gets to stop. A sweep's keys are text, so
/// one pass over the events, linear in the text, refuses such a key first.
enum YAMLKeyCheck {
    /// Where the first key that is not text starts (1-based line and column), or nil: none, or
    /// the text is not YAML (Yams then reports the syntax error itself).
    static func firstNonTextKey(in text: String) -> (line: Int, column: Int, what: String)? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer -> (Int, Int, String)? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            // Per open collection: is it a mapping, and does its next node stand in key position.
            var open: [(mapping: Bool, atKey: Bool)] = []
            // libyaml emits at most a few events per byte of input; the bound only guards this loop.
            for _ in 0...(4 * buffer.count + 16) {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                let type = event.type
                if type == YAML_STREAM_END_EVENT { return nil }
                let startsNode = type == YAML_SCALAR_EVENT || type == YAML_ALIAS_EVENT
                    || type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT
                if startsNode, let top = open.last, top.mapping, top.atKey, type != YAML_SCALAR_EVENT {
                    let what = type == YAML_ALIAS_EVENT ? "an alias" : type == YAML_SEQUENCE_START_EVENT ? "a list" : "a mapping"
                    return (Int(event.start_mark.line) + 1, Int(event.start_mark.column) + 1, what)
                }
                if type == YAML_SCALAR_EVENT || type == YAML_ALIAS_EVENT {
                    if !open.isEmpty, open[open.count - 1].mapping { open[open.count - 1].atKey.toggle() }
                } else if type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT {
                    open.append((type == YAML_MAPPING_START_EVENT, true))
                } else if type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT {
                    _ = open.popLast()
                    // The collection just closed was one node of its parent.
                    if !open.isEmpty, open[open.count - 1].mapping { open[open.count - 1].atKey.toggle() }
                }
            }
            return nil
        }
    }
}
