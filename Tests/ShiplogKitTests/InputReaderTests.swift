import ShiplogKit
import ShiplogTestSupport
import Testing

@Suite struct InputReaderTests {
    let directory = TemporaryDirectory()

    func read(_ text: String) throws -> [InputItem] {
        try read(bytes: Array(text.utf8))
    }

    func read(bytes: [UInt8]) throws -> [InputItem] {
        let reader = try InputReader(path: directory.write("input.json", bytes: bytes))
        var items: [InputItem] = []
        while let item = try reader.next() { items.append(item) }
        return items
    }

    func summary(_ items: [InputItem]) -> [String] {
        items.map { item in
            switch item {
            case .document(let document): return "doc@\(document.origin.line)"
            case .invalid(let origin, let reason, _): return "bad@\(origin.line): \(reason)"
            }
        }
    }

    @Test func readsNDJSONWithLineNumbersAndSkipsBlankLines() throws {
        let items = try read("{\"a\":1}\n\n{\"a\":2}\r\n   {\"a\":3}\n")
        #expect(summary(items) == ["doc@1", "doc@3", "doc@4"])
    }

    @Test func readsAPrettyPrintedDocumentAndAnArrayOfDocuments() throws {
        #expect(summary(try read("{\n  \"a\": [\n    1\n  ]\n}\n")) == ["doc@1"])
        let items = try read("[\n  {\"a\": 1},\n  {\"a\": 2}\n]\n")
        #expect(summary(items) == ["doc@2", "doc@3"])
        if case .document(let second) = items[1] { #expect(second.bytes == Array("{\"a\": 2}".utf8)) }
    }

    @Test func reportsEveryBadLineOfNDJSONAndKeepsReadingTheGoodOnes() throws {
        let items = try read("{\"a\":1}\n{\"a\":\n{\"a\":3}\nnot json\n{\"a\":5}\n")
        #expect(summary(items) == [
            "doc@1", "bad@2: unexpected end of input, expected a value (the line ends before the document does)",
            "doc@3", "bad@4: unexpected 'n', expected a value", "doc@5",
        ])
    }

    @Test func prettyPrintedDocumentsInOneFileAreASequence() throws {
        let items = try read("{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n")
        #expect(summary(items) == ["doc@1", "doc@4"])
    }

    @Test func aLineOverTheDocumentLimitIsRejectedAloneAndTheRestIsRead() throws {
        // A real line longer than 64 MiB: a valid document, so only its length rejects it.
        let padding = [UInt8](repeating: UInt8(ascii: "x"), count: InputReader.maximumDocumentBytes + 10)
        let huge = Array("{\"a\":\"".utf8) + padding + Array("\"}".utf8)
        let items = try read(bytes: Array("{\"a\":1}\n".utf8) + huge + Array("\n{\"a\":3}\n{\"a\":4}\n".utf8))
        let size = huge.count
        #expect(summary(items) == [
            "doc@1", "bad@2: line of \(size) bytes is larger than 64 MiB, the most a document may have; skipped", "doc@3", "doc@4",
        ])
    }

    @Test func documentsMustBeObjects() throws {
        #expect(summary(try read("42\n")) == ["bad@1: a document must be a JSON object, found number"])
    }

    @Test func emptyBinaryAndTruncatedInputsAreReportedNotCrashedOn() throws {
        #expect(summary(try read("")) == ["bad@1: empty input: no JSON document found"])
        #expect(summary(try read("  \n\n")) == ["bad@3: empty input: no JSON document found"])
        #expect(summary(try read(bytes: [0x7F, 0x45, 0x4C, 0x46, 0x00, 0x01])) == ["bad@1: binary data (NUL bytes), not JSON"])
        #expect(summary(try read("{\"a\": [1, 2")).first?.hasPrefix("bad@1: unexpected end of input") == true)
        #expect(summary(try read("{\"a\": \"\u{FFFD}\"}")) == ["doc@1"])
        #expect(summary(try read(bytes: Array("{\"a\": \"".utf8) + [0xFF] + Array("\"}".utf8)))
            == ["bad@1: invalid UTF-8 (byte 0xFF)"])
    }

    @Test func documentsSpanningReadChunksAreReassembled() throws {
        // Larger than one 1 MiB read: a document and string split across chunk boundaries.
        let big = String(repeating: "x", count: 1_500_000)
        let text = "{\"a\":1}\n{\"big\":\"\(big)\",\"n\":12345}\n{\"a\":3}\n"
        let items = try read(text)
        #expect(summary(items) == ["doc@1", "doc@2", "doc@3"])
        if case .document(let document) = items[1] {
            #expect(document.json["big"]?.string?.count == 1_500_000)
            #expect(document.json["n"] == .number("12345"))
        }
    }

    @Test func aByteOrderMarkIsSkipped() throws {
        #expect(summary(try read(bytes: [0xEF, 0xBB, 0xBF] + Array("{\"a\":1}".utf8))) == ["doc@1"])
    }
}
