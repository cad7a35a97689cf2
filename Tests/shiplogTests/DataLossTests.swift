import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

/// Outputs that would overwrite what a command reads, and inputs that used to cut an ingest short.
@Suite struct DataLossTests {
    let directory = TemporaryDirectory()

    /// A store holding `count` events, and the NDJSON they came from.
    func store(events count: Int = 20) throws -> (db: String, input: String) {
        let db = directory.file("store.db")
        let input = directory.write("in.ndjson", NativeEvents.ndjson(count: count))
        try ShiplogProcess.run(["init", "--db", db])
        let ingested = try ShiplogProcess.run(["ingest", "--db", db, input])
        precondition(ingested.status == 0, ingested.errors)
        return (db, input)
    }

    func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test func anOutputThatIsTheStoreOrOneOfItsFilesIsRefusedBeforeAnythingIsOpened() throws {
        let (db, _) = try store()
        // The WAL and shared-memory files exist only while a connection is open; keep one open.
        let reader = try EventStore(path: db)
        _ = try reader.head()
        let link = directory.file("link.db")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: db)
        let hardLink = directory.file("hard.db")
        try FileManager.default.linkItem(atPath: db, toPath: hardLink)
        let before = bytes(db)
        let otherSpelling = directory.path + "/./../" + URL(fileURLWithPath: directory.path).lastPathComponent + "/store.db"
        for target in [db, db + "-wal", db + "-shm", db + "-journal", link, hardLink, otherSpelling] {
            for command in [["export", "events", "--output", target], ["report", "--output", target]] {
                let result = try ShiplogProcess.run(command + ["--db", db])
                #expect(result.status == 2, "\(command) \(target): \(result.errors)")
                #expect(result.errors.contains("--output \(target) is the store") && result.errors.contains("nothing was written"),
                        "\(result.errors)")
            }
        }
        #expect(bytes(db) == before)
        #expect(!FileManager.default.fileExists(atPath: db + "-journal"))
        #expect(try EventStore(path: db).stats().events == 20)
        #expect(try EventStore(path: db).verify().ok)
        // A different file is written as before.
        let export = directory.file("events.csv")
        #expect(try ShiplogProcess.run(["export", "events", "--db", db, "--output", export]).status == 0)
        #expect((bytes(export)?.count ?? 0) > 0)
    }

    @Test func aRejectsFileThatIsAnInputOrTheStoreIsRefusedAndTheInputKept() throws {
        let (db, _) = try store()
        let input = directory.write("more.ndjson", NativeEvents.ndjson(count: 5, start: 100) + "not json\n")
        let before = bytes(input)
        for (arguments, target) in [([input], input), ([directory.path], input), ([input], db), ([input], db + "-wal")] {
            let result = try ShiplogProcess.run(["ingest", "--db", db, "--skip-invalid", "--rejects", target] + arguments)
            #expect(result.status == 2, "\(arguments) → \(target): \(result.errors)")
            #expect(result.errors.contains("--rejects \(target) is the"), "\(result.errors)")
        }
        // Standard input redirected from the very file given as --rejects.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "\"$0\" ingest --db \"$1\" --skip-invalid --rejects \"$2\" - < \"$2\" 2>/dev/null",
                           ShiplogProcess.executable, db, input]
        try shell.run()
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 2)
        #expect(bytes(input) == before)
        #expect(try EventStore(path: db).stats().events == 20)
        let rejects = directory.file("rejects.ndjson")
        let result = try ShiplogProcess.run(["ingest", "--db", db, "--skip-invalid", "--rejects", rejects, input])
        #expect(result.status == 3)
        #expect(String(decoding: bytes(rejects) ?? Data(), as: UTF8.self) == "not json\n")
    }

    @Test func anNDJSONLineOverTheLimitIsRejectedAloneAndTheRestIsStored() throws {
        let db = directory.file("store.db")
        try ShiplogProcess.run(["init", "--db", db])
        // Longer than twice the limit: the reader used to hold that much, give up and drop the rest.
        let lines = NativeEvents.ndjson(count: 6).split(separator: "\n").map { $0 + "\n" }
        let input = directory.write("huge.ndjson", lines[0...2].joined())
        let handle = try #require(FileHandle(forWritingAtPath: input))
        handle.seekToEndOfFile()
        handle.write(Data("{\"note\":\"".utf8))
        let block = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        let blocks = 2 * InputReader.maximumDocumentBytes / block.count + 2
        for _ in 0..<blocks { handle.write(block) }
        handle.write(Data(("\"}\n" + lines[3...].joined()).utf8))
        try handle.close()
        let result = try ShiplogProcess.run(["ingest", "--db", db, "--skip-invalid", "--format", "json", input])
        #expect(result.status == 3)
        let length = blocks * block.count + 11
        #expect(result.errors == "\(input):4: line of \(length) bytes is larger than 64 MiB, the most a document may have; skipped\n"
            + "shiplog: 1 of 7 documents rejected\n", "\(result.errors)")
        let summary = try JSONParser.parse(result.output)
        #expect(summary["documents"]?.int == 7 && summary["appended"]?.int == 6 && summary["rejected"]?.int == 1, "\(result.output)")
        #expect(try EventStore(path: db).stats().events == 6)
    }
}
