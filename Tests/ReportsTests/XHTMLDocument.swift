import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses a report page with an XML parser: it must be well-formed XHTML. Records element
/// names and the text, and fails with the parser's error and position otherwise.
final class XHTMLDocument: NSObject, XMLParserDelegate {
    private(set) var elements: [String] = []
    private(set) var text = ""
    private var insideStyle = false

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    init(_ html: String) throws {
        super.init()
        let parser = XMLParser(data: Data(html.utf8))
        parser.delegate = self
        guard parser.parse() else {
            let error = parser.parserError.map { "\($0)" } ?? "unknown error"
            throw Malformed(description: "not well-formed at line \(parser.lineNumber), column \(parser.columnNumber): \(error)")
        }
    }

    func count(_ element: String) -> Int { elements.filter { $0 == element }.count }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append(elementName)
        insideStyle = elementName == "style"
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        if elementName == "style" { insideStyle = false }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if !insideStyle { text += string }
    }
}
