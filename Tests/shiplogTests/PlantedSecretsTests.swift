import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

/// A corpus of planted secrets, one or more for every class of input that once reached the log
/// verbatim, fed in through every way bytes enter (ingest of each form, `record`, reasons,
/// rejected input), then looked for everywhere something comes out: the database file and its WAL,
/// the dictionaries, every original and event decompressed, every query and export format, the
/// rejects file and standard error. Every planted value contains `PLANT` (or is one of the
/// numbers below), so one scan finds any of them. Add a class here when one is found.
@Suite(.serialized) struct PlantedSecretsTests {
    let directory = TemporaryDirectory()
    var db: String { directory.file("store.db") }
    static let numbers = ["424242424242", "31337424242"]

    /// Secrets in free text: each shape the text rules must catch, wherever a string may hold text.
    static let textSecrets = [
        "redis://:PLANT-redis-pw@cache.internal:6379/0", "https://deploy:PLANT/pw-with-slash@git.example.com/r.git",
        "Authorization: Bearer PLANTbearer0001abcdef", "curl -H 'x-api-key: PLANT-header-key'",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJwbGFudGVkIn0.PLANTjwtSignature0001",
        "xapp-1-A0PLANT0001-1234567890", "xoxp-PLANT0002-123", "glpat-PLANT0003abcdefghijklmn",
        "npm_PLANT0004abcdefghijklmnopqrstuvwxyz01", "sk_live_PLANT0005abcdefghij",
        "export DB_PASSWORD=PLANT-export-pw", "AWS_SECRET_ACCESS_KEY=PLANT-aws-secret AWS_SESSION_TOKEN=PLANT-aws-session",
        "oauth client_secret=PLANT-client-secret&x=1", "mysql --password PLANT-flag-space --api-key=PLANT-flag-eq",
        "password: PLANT-yaml-colon", "spring.datasource.password=PLANT-dotted",
    ].joined(separator: " ; ")

    /// A CloudTrail RegisterTaskDefinition whose request holds secrets of every structural kind.
    func plantedRegistration() throws -> String {
        let original = try String(contentsOfFile: Fixtures.path("aws-cloudtrail/ecs.RegisterTaskDefinition.p1-crawler-8.json"), encoding: .utf8)
        let planted = #"""
            "essential": true,
                            "command": ["--password", "PLANT-argument-pair", "--token", "PLANT-argument-token", "serve"],
                            "entryPoint": ["sh", "-c", "\#(Self.textSecrets)"],
                            "dockerLabels": {"dbPassword": "PLANT-dbPassword", "db_password": "PLANT-db_password",
                                "secretValue": "PLANT-secretValue", "passphrase": "PLANT-passphrase", "x-api-key": "PLANT-x-api-key",
                                "access_key": "PLANT-access_key", "password": 424242424242, "apiKey": ["PLANT-array-member"],
                                "credentials": {"user": "ci", "pass": "PLANT-object-member"}},
                            "auths": {"registry.example.com": {"auth": "PLANT-docker-auth", "email": "ci@example.com"}},
                            "Environment": [{"Name": "CFN_STYLE", "Value": "PLANT-cfn-environment"}],
                            "ENVIRONMENT": [{"name": "UPPER", "value": "PLANT-upper-environment"}],
            """#
        var text = original.replacingOccurrences(of: "\"essential\": true,", with: planted, options: [], range: original.range(of: "\"essential\": true,"))
        text = text.replacingOccurrences(of: #""name": "LOG_LEVEL","#, with: #""name": "NUMERIC", "value": 31337424242}, {"name": "LOG_LEVEL","#)
        try #require(text != original)
        return text
    }

    /// The deregistration of p1-crawler:8, so that a rollback to it prints the stored request.
    func deregistration() throws -> String {
        try String(contentsOfFile: Fixtures.path("aws-cloudtrail/ecs.DeregisterTaskDefinition.p1-crawler-6.json"), encoding: .utf8)
            .replacingOccurrences(of: "p1-crawler:6", with: "p1-crawler:8")
            .replacingOccurrences(of: "2026-03-08T02:00:00Z", with: "2026-03-09T02:00:00Z")
            .replacingOccurrences(of: #""eventID": ""#, with: #""eventID": "planted-"#)
    }

    /// A GitHub delivery whose body is the raw request text, secrets inside it.
    func rawBodyDelivery() -> String {
        let commit = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
        let body: JSON = [
            "ref": "refs/heads/main", "before": "0000000000000000000000000000000000000000", "after": .string(commit),
            "repository": ["full_name": "ml-pipe/planted", "name": "planted", "owner": ["login": "ml-pipe"]],
            "pusher": ["name": "tester", "email": "tester@example.com"], "sender": ["login": "tester"],
            "hook": ["config": ["secret": "PLANT-hook-secret", "content_type": "json"]],
            "head_commit": [
                "id": .string(commit), "message": .string("rotate creds " + Self.textSecrets), "timestamp": "2026-03-09T00:00:00Z",
                "author": ["name": "Tester", "email": "tester@example.com", "username": "tester"],
            ],
            "commits": [[
                "id": .string(commit), "message": .string("rotate creds " + Self.textSecrets), "timestamp": "2026-03-09T00:00:00Z",
                "author": ["name": "Tester", "email": "tester@example.com", "username": "tester"],
            ]],
        ]
        return JSONWriter.pretty([
            "headers": ["X-GitHub-Event": "push", "X-GitHub-Delivery": "7c3e2f32-planted-delivery"],
            "body": .string(JSONWriter.compact(body)),
        ])
    }

    func run(_ arguments: [String], input: String? = nil, environment: [String: String] = [:]) throws -> ShiplogProcess.Result {
        try ShiplogProcess.run(arguments + ["--db", db], input: input, environment: environment)
    }

    /// Every place a planted secret could surface, with what it is called.
    func leaks(in text: String, _ place: String) -> [String] {
        var found: [String] = []
        for needle in ["PLANT"] + Self.numbers where text.contains(needle) {
            let at = text.range(of: needle)!.lowerBound
            found.append("\(place): …\(text[at...].prefix(60))")
        }
        return found
    }

    @Test func noPlantedSecretComesOutAnywhere() throws {
        #expect(try run(["init"]).status == 0)
        var fixtures = try Fixtures.documents(in: ["github", "aws-eventbridge", "aws-cloudtrail"])
        fixtures.removeAll { $0.hasSuffix("ecs.RegisterTaskDefinition.p1-crawler-8.json") }
        let registration = directory.write("register-p1-crawler-8.json", try plantedRegistration())
        let deregistration = directory.write("deregister-p1-crawler-8.json", try deregistration())
        let delivery = directory.write("delivery.json", rawBodyDelivery())
        var leaks: [String] = []
        var outputs: [(String, ShiplogProcess.Result)] = []

        let ingest = try run(["ingest"] + fixtures + [registration, deregistration, delivery])
        #expect(ingest.status == 0, "\(ingest.errors)")
        outputs.append(("ingest", ingest))

        // What a person types: a recorded push's message, a veto's reason, a rollback's reason.
        outputs.append(("record push", try run(["record", "push", "--repository", "ml-pipe/planted", "--commit", String(repeating: "ab", count: 20),
                                                "--ref", "refs/heads/main", "--message", "token=PLANT-recorded " + Self.textSecrets])))
        outputs.append(("mark-bad", try run(["mark-bad", "P1", "p1-crawler:8", "--reason", "leaks " + Self.textSecrets, "--actor", "minseo"])))
        outputs.append(("rollback --record", try run(["rollback", "P1", "--to", "p1-crawler:8", "--force", "--record",
                                                      "--reason", "Bearer PLANTrollback0001abcdef", "--actor", "minseo"])))
        for (name, result) in outputs { #expect(result.status == 0, "\(name): \(result.errors)") }

        // Input that fails to parse goes to the rejects file redacted, and the file is private.
        let broken = directory.write("broken.json", #"{"password": "PLANT-rejected-pw", "note": "\#(Self.textSecrets)", "n": "#)
        let rejectsPath = directory.file("rejects.txt")
        let rejected = try run(["ingest", "--skip-invalid", "--rejects", rejectsPath, broken])
        #expect(rejected.status == 3)
        outputs.append(("rejected ingest", rejected))
        let rejects = try String(contentsOfFile: rejectsPath, encoding: .utf8)
        #expect(rejects.contains("[REDACTED"))
        leaks += self.leaks(in: rejects, "rejects file")
        let mode = try FileManager.default.attributesOfItem(atPath: rejectsPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // Every query and export, in every format.
        var commands: [[String]] = [
            ["where"], ["history", "P1"], ["trace", "9f8e7d6"], ["trace", "p1-crawler:8"], ["diff", "p1-crawler:7", "p1-crawler:8"],
            ["rollback", "P1", "--to", "p1-crawler:8", "--force"], ["audit"], ["stats"], ["metrics"],
            ["events"], ["report", "--format", "md"], ["report", "--format", "html"],
        ]
        for format in ["json", "ndjson", "csv"] {
            commands += [["where", "--format", format], ["history", "P1", "--format", format], ["audit", "--format", format],
                         ["events", "--format", format]]
            for kind in ["deployments", "events", "services"] { commands.append(["export", kind, "--format", format]) }
        }
        commands.append(["rollback", "P1", "--to", "p1-crawler:8", "--force", "--format", "json"])
        for command in commands {
            outputs.append((command.joined(separator: " "), try run(command)))
        }
        let plan = try run(["rollback", "P1", "--to", "p1-crawler:8", "--force"])
        #expect(plan.output.contains("register-task-definition"), "the plan re-registers the deregistered target: \(plan.output)")

        for (name, result) in outputs {
            leaks += self.leaks(in: result.output, "\(name) stdout")
            leaks += self.leaks(in: result.errors, "\(name) stderr")
        }

        // The events as shiplog prints them are what it stored: ingested again, nothing differs.
        let exported = try run(["events", "--format", "ndjson"]).output
        let again = try run(["ingest", "--format", "json", "-"], input: exported)
        #expect(again.status == 0, "\(again.errors)")
        #expect(try JSONParser.parse(again.output)["appended"] == 0)

        // The file itself: database, WAL, the trained dictionaries, every original and event decompressed.
        for file in [db, db + "-wal"] where FileManager.default.fileExists(atPath: file) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            for needle in ["PLANT"] + Self.numbers where bytes.range(of: Data(needle.utf8)) != nil {
                leaks.append("\(needle) in the raw bytes of \(file)")
            }
        }
        let store = try EventStore(path: db)
        var originals = ""
        var documents = 0
        try store.events(EventFilter()) { event in
            if let document = try store.document(id: event.documentID) {
                originals += String(decoding: document.bytes, as: UTF8.self) + "\n"
                documents += 1
            }
        }
        #expect(documents > 50)
        #expect(originals.contains("[REDACTED:secret]") && originals.contains("[REDACTED:env]"))
        leaks += self.leaks(in: originals, "an original document")
        let dictionaries = try withRawDatabase(db) { database in
            let statement = try database.prepare("SELECT bytes FROM dictionaries")
            var blobs: [[UInt8]] = []
            while try statement.step() { blobs.append(statement.blob(0)) }
            return blobs
        }
        #expect(!dictionaries.isEmpty, "a dictionary was trained")
        for dictionary in dictionaries {
            leaks += self.leaks(in: String(decoding: dictionary, as: UTF8.self), "a dictionary")
        }
        #expect(leaks.isEmpty, "\(leaks.joined(separator: "\n"))")
    }

    @Test func aDuplicateMemberNameIsRejectedWithItsLine() throws {
        #expect(try run(["init"]).status == 0)
        let file = directory.write("twice.ndjson", NativeEvents.line(NativeEvents.deployment(1)) + "\n"
            + #"{"shiplog":1,"id":"dup","type":"deployment.started","time":"2026-11-01T12:00:02Z","data":{"cluster":"ML-PIPE","service":"P1","service":"P2","taskDefinition":"p1-crawler:1"}}"# + "\n")
        let result = try run(["ingest", file])
        #expect(result.status == 3)
        #expect(result.errors.contains("twice.ndjson:2: duplicate member name \"service\""), "\(result.errors)")
        #expect(try EventStore(path: db).head() == nil, "nothing appended")
    }
}
