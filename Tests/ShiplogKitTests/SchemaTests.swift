import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

@Suite struct SchemaTests {
    let root = packageRoot()

    func schemaFiles(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root + "/schema/" + folder).sorted()
    }

    @Test func theBinaryAppliesExactlyTheMigrationsInSchemaFolder() throws {
        let files = try schemaFiles("migrations").filter { $0.hasSuffix(".sql") }
        #expect(!files.isEmpty)
        let directory = TemporaryDirectory()
        // What the binary applies…
        let store = try EventStore(path: directory.file("binary.db"), mode: .create)
        #expect(store.schemaVersion == files.count)
        // …against the files applied by hand, one by one.
        let reference = try Database(path: directory.file("reference.db"))
        for file in files {
            try reference.execute(try String(contentsOfFile: root + "/schema/migrations/" + file, encoding: .utf8))
        }
        func objects(_ database: Database) throws -> [String] {
            let statement = try database.prepare(
                "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
            var rows: [String] = []
            while try statement.step() { rows.append(statement.text(0)) }
            return rows
        }
        let applied = try withRawDatabase(store.path) { try objects($0) }
        #expect(applied == (try objects(reference)))
        // And it recorded each migration with the checksum of the file.
        try withRawDatabase(store.path) { database in
            let statement = try database.prepare("SELECT name FROM schema_migrations ORDER BY version")
            var names: [String] = []
            while try statement.step() { names.append(statement.text(0)) }
            #expect(names == files)
        }
    }

    @Test func embeddedSchemaMatchesSchemaFolder() throws {
        // tools/embed-schema writes the Swift file; this fails when someone forgot to run it.
        let generator = Process()
        generator.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        generator.arguments = ["python3", root + "/tools/embed-schema", "--check"]
        let pipe = Pipe()
        generator.standardOutput = pipe
        generator.standardError = pipe
        try generator.run()
        generator.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(generator.terminationStatus == 0, "schema/ and EmbeddedSchema.swift differ: run tools/embed-schema\n\(output)")
    }

    @Test func everyEventTypeHasASchemaAndEverySchemaATypeOfTheCatalog() throws {
        let files = try schemaFiles("events").filter { $0 != "common.json" }.map { String($0.dropLast(".json".count)) }
        #expect(files == EventCatalog.types.keys.sorted())
        #expect(SchemaValidator.shared.eventTypes == files)
        let envelope = try #require(SchemaValidator.shared.schema(named: "native-event.json"))
        let listed = envelope["properties"]?["type"]?["enum"]?.array?.compactMap(\.string) ?? []
        #expect(listed == files)
    }

    @Test func schemaFilesAreValidJSON() throws {
        for file in try schemaFiles("events") + ["../native-event.json"] {
            let text = try String(contentsOfFile: root + "/schema/events/" + file, encoding: .utf8)
            #expect(throws: Never.self) { try JSONParser.parse(text) }
        }
    }

    @Test func validatorReportsThePathOfTheFirstProblem() {
        let validator = SchemaValidator.shared
        let valid: JSON = ["cluster": "ML-PIPE", "service": "P1", "taskDefinition": "p1-crawler:3"]
        #expect(validator.validate(valid, against: "deployment.started.json", path: "data") == nil)
        let badRevision: JSON = ["cluster": "ML-PIPE", "service": "P1", "taskDefinition": "p1-crawler"]
        #expect(validator.validate(badRevision, against: "deployment.started.json", path: "data")?
            .hasPrefix("data.taskDefinition: ") == true)
        let missing: JSON = ["cluster": "ML-PIPE"]
        #expect(validator.validate(missing, against: "deployment.started.json", path: "data") == "data.service: required")
        let nested: JSON = ["family": "f", "revision": 1, "taskDefinition": "f:1", "containers": [["image": "x"]]]
        #expect(validator.validate(nested, against: "taskdef.registered.json", path: "data") == "data.containers[0].name: required")
        let wrongType: JSON = ["cluster": "C", "service": "S", "desiredCount": "four"]
        #expect(validator.validate(wrongType, against: "service.scaled.json", path: "data")?.contains("expected an integer") == true)
    }
}
