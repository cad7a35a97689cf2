import ShiplogKit
import Testing

@Suite struct JSONParserTests {
    @Test func parsesNestedDocumentsKeepingMemberOrderAndNumberText() throws {
        let value = try JSONParser.parse(#"{"b":1,"a":[true,false,null,"x"],"n":1557128360.831,"e":-2.5E+3}"#)
        #expect(value.object?.keys == ["b", "a", "n", "e"])
        #expect(value["n"] == .number("1557128360.831"))
        #expect(value["e"] == .number("-2.5E+3"))
        #expect(value["a"]?[3]?.string == "x")
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#"["a\"b\\c\/d\n\t", "\u00e9\ud83d\ude80", "한글"]"#)
        #expect(value[0]?.string == "a\"b\\c/d\n\t")
        #expect(value[1]?.string == "é🚀")
        #expect(value[2]?.string == "한글")
    }

    @Test(arguments: [
        (#"{"a":1,}"#, "expected a member name"),
        (#"{"a" 1}"#, "expected ':'"),
        (#"[01]"#, "leading zero"),
        (#"{"a":tru}"#, "expected a value"),
        (#"{"a":"\x"}"#, "invalid escape"),
        (#"{"a":"\ud800"}"#, "surrogate"),
        ("{\"a\":\"tab\there\"}", "control character"),
        (#"{"a":1} x"#, "after the document"),
        (#"{"a":"#, "unexpected end of input"),
        (#"{"a":"open"#, "unterminated string"),
    ])
    func rejectsInvalidJSONWithAReason(text: String, reason: String) {
        #expect {
            try JSONParser.parse(text)
        } throws: { error in
            (error as? JSONSyntaxError)?.reason.contains(reason) == true
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }  // surrogate
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xC0, 0xAF, 0x22]) }  // overlong
    }

    @Test func refusesNestingDeeperThanTheLimitWithoutCrashing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect {
            try JSONParser.parse(deep)
        } throws: { error in
            (error as? JSONSyntaxError)?.reason.contains("nesting deeper") == true
        }
        let fine = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(throws: Never.self) { try JSONParser.parse(fine) }
    }

    @Test func canonicalFormSortsKeysByBytesAndIsStable() throws {
        let value = try JSONParser.parse(#"{"b":{"z":1,"a":"x"},"a":[1,"\u0001"],"B":true}"#)
        #expect(JSONWriter.canonical(value) == #"{"B":true,"a":[1,"\u0001"],"b":{"a":"x","z":1}}"#)
        #expect(try JSONParser.parse(JSONWriter.canonical(value)) == JSONParser.parse(JSONWriter.canonical(value)))
    }

    @Test func writerRoundTripsStrings() throws {
        let tricky = "quote\" backslash\\ newline\n cr\r nul\u{0} emoji🚀 한글"
        let text = JSONWriter.compact(.array([.string(tricky)]))
        #expect(try JSONParser.parse(text)[0]?.string == tricky)
    }
}
