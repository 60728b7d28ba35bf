import Foundation

/// Builds XML text (the XHTML page and its inline SVG) with every text and attribute value
/// escaped in one place, so a stage named `<b>&` cannot break the page.
struct XMLWriter {
    private(set) var text = ""

    typealias Attributes = KeyValuePairs<String, String>

    mutating func open(_ name: String, _ attributes: Attributes = [:]) {
        text += "<\(name)\(Self.attributeText(attributes))>"
    }

    mutating func close(_ name: String) { text += "</\(name)>\n" }

    /// An element with no content: `<circle .../>`.
    mutating func leaf(_ name: String, _ attributes: Attributes = [:]) {
        text += "<\(name)\(Self.attributeText(attributes))/>\n"
    }

    /// An element holding only text.
    mutating func element(_ name: String, _ attributes: Attributes = [:], text content: String) {
        text += "<\(name)\(Self.attributeText(attributes))>\(Self.escape(content))</\(name)>\n"
    }

    mutating func text(_ content: String) { text += Self.escape(content) }

    /// Markup that another writer built (and escaped).
    mutating func markup(_ markup: String) { text += markup }

    static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // XML 1.0 forbids most control characters even as references: drop them.
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func attributeText(_ attributes: Attributes) -> String {
        attributes.map { " \($0.key)=\"\(escape($0.value))\"" }.joined()
    }

    /// Coordinates with two decimals: enough for a screen, and the same text every run.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let text = String(format: "%.2f", value)
        return text == "-0.00" ? "0.00" : text
    }
}
