import ShiplogKit
import ShiplogTestSupport
import Testing

/// Values from the log are data: printed, they cannot drive the terminal or break a report's layout.
@Suite struct TerminalSafetyTests {
    static let retitle = "\u{1B}]0;owned\u{07}"
    static let clear = "\u{1B}[2J\u{1B}[H"
    static let hostile = "fix\(retitle)\(clear) \u{202E}hs.live\u{202C} \u{9B}31m\r\tdone"

    /// Whether `text` holds anything a terminal would obey rather than print (newlines aside).
    static func hasControls(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            (scalar.value < 0x20 && scalar != "\n") || (0x7F...0x9F).contains(scalar.value)
                || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
        }
    }

    @Test func controlsAndBidiOverridesAreEscapedInJSONNotation() throws {
        let escaped = TerminalText.escaped(Self.hostile)
        #expect(!Self.hasControls(escaped))
        #expect(escaped == #"fix\u001B]0;owned\u0007\u001B[2J\u001B[H \u202Ehs.live\u202C \u009B31m\u000D\u0009done"#)
        #expect(TerminalText.escaped("two\nlines, ünïcödé, 日本") == "two\nlines, ünïcödé, 日本")
        // JSON text stays JSON with the same values.
        let json = JSONWriter.compact(["message": .string("a\u{202E}b\u{9B}c")])
        #expect(try JSONParser.parse(TerminalText.escaped(json))["message"]?.string == "a\u{202E}b\u{9B}c")
    }

    @Test func tableCellsAreEscapedAndStillAligned() {
        var table = TextTable([.init("SERVICE"), .init("MESSAGE", flexible: true)])
        table.append(["P1", Self.hostile])
        table.append(["P2", "plain"])
        let text = table.render(width: 200)
        #expect(!Self.hasControls(text))
        #expect(text.contains(#"\u001B]0;owned"#))
        let lines = text.split(separator: "\n")
        #expect(lines.count == 3)
        let starts = zip(lines, ["MESSAGE", "fix", "plain"]).map { line, text in line.firstRange(of: text).map { line.distance(from: line.startIndex, to: $0.lowerBound) } }
        #expect(starts == [9, 9, 9])
    }

    @Test func theMarkdownReportEscapesHTMLAndKeepsEachRowOnOneLine() throws {
        let directory = TemporaryDirectory()
        let store = try EventStore(path: directory.file("store.db"), mode: .create)
        var event = NativeEvents.deployment(1, service: "P1")
        event.data["actor"] = .string("<script>alert(1)</script>\nsecond | line\r\nthird\\|\(Self.clear)`x`")
        var other = NativeEvents.deployment(2, service: "P<b>2</b>\nnext")
        other.data["actor"] = "tester"
        try store.append([NativeEvents.document(event), NativeEvents.document(other)])
        let markdown = ReportRenderer.markdown(try store.reportData())
        #expect(!markdown.contains("<script>") && !markdown.contains("<b>"))
        #expect(markdown.contains("&lt;script&gt;alert(1)&lt;/script&gt;<br>second \\| line<br>third\\\\\\|"))
        #expect(!Self.hasControls(markdown))
        // Every row of a table has the header's number of cells: no value adds or splits one.
        var columns: Int?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("|") else {
                columns = nil
                continue
            }
            let cells = Self.cellSeparators(in: line)
            if let columns { #expect(cells == columns, "\(line)") } else { columns = cells }
        }
        #expect(markdown.contains("### ML-PIPE/P&lt;b&gt;2&lt;/b&gt;<br>next") || markdown.contains("P&lt;b&gt;2&lt;/b&gt;<br>next"))
    }

    /// The `|` that separate cells: not the ones escaped with a backslash.
    static func cellSeparators(in line: Substring) -> Int {
        var count = 0
        var escaped = false
        for character in line {
            if escaped {
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "|" {
                count += 1
            }
        }
        return count
    }
}
