import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

/// What the binary prints for people is escaped; what it prints for programs keeps exact values.
@Suite struct TerminalOutputTests {
    let directory = TemporaryDirectory()
    static let service = "P1\u{1B}]0;owned\u{07}\u{1B}[2J\u{202E}"

    func hasControls(_ text: String) -> Bool {
        text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || $0 == "\u{202E}" }
    }

    @Test func tablesAndErrorsEscapeTerminalControlsAndJSONAndCSVKeepTheValue() throws {
        let db = directory.file("store.db")
        try ShiplogProcess.run(["init", "--db", db])
        let input = directory.write("in.ndjson", NativeEvents.line(NativeEvents.deployment(1, service: Self.service)) + "\n")
        #expect(try ShiplogProcess.run(["ingest", "--db", db, input]).status == 0)
        for command in [["where"], ["events"], ["history", Self.service]] {
            let result = try ShiplogProcess.run(command + ["--db", db])
            #expect(result.status == 0 && !hasControls(result.output), "\(command): \(result.output.debugDescription)")
            #expect(command[0] == "history" || result.output.contains(#"P1\u001B"#), "\(command)")
        }
        let missing = try ShiplogProcess.run(["history", "x\u{1B}[2J\u{9B}", "--db", db])
        #expect(missing.status != 0 && !missing.errors.isEmpty && !hasControls(missing.errors), "\(missing.errors.debugDescription)")
        let json = try ShiplogProcess.run(["where", "--db", db, "--format", "json"])
        #expect(json.output.lowercased().contains(#"\u001b]0;owned"#))
        #expect(try JSONParser.parse(json.output)[0]?["service"]?.string == Self.service)
        let csv = try ShiplogProcess.run(["where", "--db", db, "--format", "csv"])
        #expect(CSVReader.parse(csv.output).dropFirst().first?.contains(Self.service) == true)
    }
}
