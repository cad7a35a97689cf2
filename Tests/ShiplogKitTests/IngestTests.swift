import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

@Suite struct IngestTests {
    let directory = TemporaryDirectory()

    func store() throws -> EventStore {
        try EventStore(path: directory.file("store.db"), mode: .create)
    }

    func ingest(_ store: EventStore, _ files: [String], skipInvalid: Bool = false) throws -> (IngestReport, [String]) {
        var options = IngestOptions()
        options.skipInvalid = skipInvalid
        var rejections: [String] = []
        let report = try Ingestor(store: store, options: options).ingest(files: files) { rejections.append($0.description) }
        return (report, rejections)
    }

    @Test func nativeNDJSONIsAppendedAndReingestingAppendsNothing() throws {
        let store = try store()
        let file = directory.write("events.ndjson", NativeEvents.ndjson(count: 50))
        let (first, _) = try ingest(store, [file])
        #expect(first.appended == 50 && first.duplicates == 0 && first.rejected == 0)
        let (second, _) = try ingest(store, [file])
        #expect(second.appended == 0 && second.duplicates == 50)
        #expect(try store.stats().events == 50)
    }

    @Test func oneBadDocumentRejectsTheWholeRunAndLeavesTheStoreUnchanged() throws {
        let store = try store()
        try ingest(store, [directory.write("before.ndjson", NativeEvents.ndjson(count: 3, start: 100))])
        let before = try #require(try store.head())
        var lines = NativeEvents.ndjson(count: 6).split(separator: "\n").map(String.init)
        lines[2] = lines[2].replacingOccurrences(of: "\"p1-crawler:", with: "\"p1-crawler-")
        lines[4] = "{\"shiplog\":1,\"id\":\"x\",\"type\":\"deployment.started\",\"time\":\"yesterday\",\"data\":{}}"
        let file = directory.write("bad.ndjson", lines.joined(separator: "\n") + "\n")
        let (report, rejections) = try ingest(store, [file])
        #expect(report.rolledBack)
        #expect(report.appended == 0 && report.rejected == 2)
        #expect(rejections.count == 2)
        #expect(rejections[0].hasPrefix("\(file):3: native: data.taskDefinition: "))
        #expect(rejections[1].hasPrefix("\(file):5: native: "))
        let after = try #require(try store.head())
        #expect(after.position == before.position && after.chain == before.chain)
        #expect(try store.stats().documents == 3)
    }

    @Test func rejectionsComeInInputOrderAcrossChunksAndFiles() throws {
        // Reading runs a few chunks ahead of appending; what the caller sees must not show it.
        let store = try store()
        var lines = NativeEvents.ndjson(count: 3000).split(separator: "\n").map(String.init)
        let bad = [7, 511, 512, 513, 1999, 2999]
        for index in bad { lines[index] = "{\"broken\": " }
        let first = directory.write("a.ndjson", lines[..<1500].joined(separator: "\n") + "\n")
        let second = directory.write("b.ndjson", lines[1500...].joined(separator: "\n") + "\n")
        let (report, rejections) = try ingest(store, [first, second], skipInvalid: true)
        #expect(report.documents == 3000 && report.rejected == bad.count && report.appended == 3000 - bad.count)
        #expect(rejections.map { $0.components(separatedBy: ":").prefix(2).joined(separator: ":") } == bad.map {
            $0 < 1500 ? "\(first):\($0 + 1)" : "\(second):\($0 - 1500 + 1)"
        })
    }

    @Test func anUnreadableFileStopsTheRunAndNothingIsStored() throws {
        let store = try store()
        let good = directory.write("good.ndjson", NativeEvents.ndjson(count: 2000))
        let unreadable = directory.file("folder.ndjson")
        try FileManager.default.createDirectory(atPath: unreadable, withIntermediateDirectories: true)
        #expect(throws: SystemError.self) { try ingest(store, [good, unreadable]) }
        #expect(try store.stats().events == 0)
        // And the store takes the next run as if nothing happened.
        #expect(try ingest(store, [good]).0.appended == 2000)
    }

    @Test func skipInvalidAppendsTheGoodDocuments() throws {
        let store = try store()
        let text = NativeEvents.ndjson(count: 4) + "{not json}\n"
        let (report, rejections) = try ingest(store, [directory.write("mixed.ndjson", text)], skipInvalid: true)
        #expect(report.appended == 4 && report.rejected == 1 && !report.rolledBack)
        #expect(rejections.first?.contains("mixed.ndjson:5: ") == true)
    }

    @Test func unknownDocumentsAndTypesAreRejectedWithAReason() throws {
        let store = try store()
        let file = directory.write("odd.ndjson", """
            {"hello":"world"}
            {"shiplog":1,"id":"a","type":"deployment.teleported","time":"2026-01-01T00:00:00Z","data":{}}
            {"shiplog":2,"id":"b","type":"deployment.started","time":"2026-01-01T00:00:00Z","data":{}}

            """)
        let (report, rejections) = try ingest(store, [file])
        #expect(report.rejected == 3)
        #expect(rejections[0].contains(":1: unrecognized document"))
        #expect(rejections[1].contains(":2: native: type: \"deployment.teleported\" is not one of"))
        #expect(rejections[2].contains(":3: native: shiplog: must be 1"))
    }

    @Test func foldersAreSearchedForJSONFiles() throws {
        let store = try store()
        directory.write("a.ndjson", NativeEvents.ndjson(count: 2))
        directory.write("b.json", NativeEvents.line(NativeEvents.deployment(77)))
        directory.write("notes.txt", "not json")
        directory.write(".hidden.json", "{}")
        let files = try Ingestor.expand([directory.path])
        #expect(files.map { String($0.split(separator: "/").last!) } == ["a.ndjson", "b.json"])
        let (report, _) = try ingest(store, files)
        #expect(report.appended == 3)
    }

    @Test func aConflictingDuplicateIsARejectionNotAnOverwrite() throws {
        let store = try store()
        try ingest(store, [directory.write("one.ndjson", NativeEvents.line(NativeEvents.deployment(1, id: "dup")) + "\n")])
        let changed = NativeEvents.line(NativeEvents.deployment(1, revision: 5, id: "dup"))
        let (report, rejections) = try ingest(store, [directory.write("two.ndjson", changed + "\n")])
        #expect(report.rejected == 1 && report.appended == 0)
        #expect(rejections.first?.contains("already stored at position 1 with different content") == true)
    }
}
