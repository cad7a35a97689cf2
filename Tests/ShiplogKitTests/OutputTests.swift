import ShiplogKit
import Testing

@Suite struct OutputTests {
    @Test func csvQuotesNeutralisesFormulasAndRoundTrips() {
        var writer = CSVWriter()
        let row = ["plain", "a,b", "say \"hi\"", "line1\nline2", "=HYPERLINK(\"http://x\",\"y\")", "+1", "@cmd", "-5", "\tx", "한글"]
        writer.writeRow(row)
        let text = String(decoding: writer.take(), as: UTF8.self)
        #expect(text.hasSuffix("\r\n"))
        #expect(text.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""))
        let parsed = CSVReader.parse(text)
        #expect(parsed.count == 1)
        #expect(parsed[0].map(CSVReader.unneutralise) == row)
        #expect(parsed[0][4].hasPrefix("'="))
        #expect(parsed[0][7] == "-5")
    }

    @Test func tablesFitTheWidthByShorteningFlexibleColumns() {
        var table = TextTable([.init("ID"), .init("TEXT", flexible: true)])
        table.append(["1", String(repeating: "x", count: 300)])
        let lines = table.render(width: 100).split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 100 })
        #expect(lines[1].hasSuffix("…"))
    }
}
