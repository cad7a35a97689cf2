import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

/// Real payloads in, through the binary: every source, duplicates, malformed input, secrets.
@Suite struct IngestSourcesTests {
    let directory = TemporaryDirectory()
    var db: String { directory.file("store.db") }

    static let fixtureFolders = ["github", "aws-eventbridge", "aws-cloudtrail", "aws-cli", "cdevents"]

    func initStore() throws {
        #expect(try ShiplogProcess.run(["init", "--db", db]).status == 0)
    }

    @Test func everyFixtureFolderIngestsAndAgainAppendsNothing() throws {
        try initStore()
        let folders = try Fixtures.documents(in: Self.fixtureFolders)
        let first = try ShiplogProcess.run(["ingest", "--db", db, "--format", "json"] + folders)
        #expect(first.status == 0, "\(first.errors)")
        let report = try JSONParser.parse(first.output)
        let appended = try #require(report["appended"]?.int)
        #expect(appended > 80)
        #expect(report["rejected"] == 0)
        let again = try ShiplogProcess.run(["ingest", "--db", db, "--format", "json"] + folders)
        let second = try JSONParser.parse(again.output)
        #expect(second["appended"] == 0)
        #expect(second["duplicates"]?.int == appended + (report["duplicates"]?.int ?? 0))
        #expect(try ShiplogProcess.run(["verify", "--db", db]).status == 0)
        // Every source is represented.
        let stats = try JSONParser.parse(try ShiplogProcess.run(["stats", "--db", db, "--format", "json"]).output)
        let sources = try #require(stats["documentsBySource"]?.object?.keys)
        #expect(Set(sources) == ["github", "eventbridge", "cloudtrail", "awscli", "cdevents"])
    }

    @Test func noSecretValueFromTheFixturesSurvivesAnywhereInTheDatabaseFile() throws {
        try initStore()
        let result = try ShiplogProcess.run(["ingest", "--db", db] + (try Fixtures.documents(in: Self.fixtureFolders)))
        #expect(result.status == 0, "\(result.errors)")
        let secrets = [
            "S3cretPassw0rd", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "T0ABCDEF1/B0ABCDEF2/abcdefghijklmnopqrstuvwx",
            "ASIAQEXAMPLEKEY00001", "AKIAQEXAMPLEKEY00002", "AKIAQEXAMPLEKEY00003", "ASIAQEXAMPLEKEY00009",
        ]
        // The raw file (and WAL) after a checkpoint, byte for byte…
        var files = [db]
        if FileManager.default.fileExists(atPath: db + "-wal") { files.append(db + "-wal") }
        for file in files {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            for secret in secrets {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) found in \(file)")
            }
        }
        // …and everything decompressed: the originals, the events' data, the dictionaries.
        let everything = try ShiplogProcess.run(["events", "--db", db, "--format", "ndjson"]).output
        let store = try EventStore(path: db)
        var originals = ""
        try store.events(EventFilter()) { event in
            originals += String(decoding: try store.document(id: event.documentID)?.bytes ?? [], as: UTF8.self)
        }
        #expect(originals.contains("[REDACTED:env]"))
        for secret in secrets {
            #expect(!everything.contains(secret), "\(secret) in the events")
            #expect(!originals.contains(secret), "\(secret) in an original document")
        }
    }

    @Test func malformedInputsAreRejectedWithFileLineAndLeaveTheStoreUnchanged() throws {
        try initStore()
        try ShiplogProcess.run(["ingest", "--db", db, Fixtures.path("github/push.release-a.json")])
        let before = try #require(try EventStore(path: db).head())
        let good = NativeEvents.line(NativeEvents.deployment(1)) + "\n"
        var cases: [(name: String, bytes: [UInt8], reason: String)] = [
            ("truncated.json", Array("{\"version\":\"0\",\"id\":\"x\",\"detail-type\":\"ECS Task".utf8), "unterminated string"),
            ("wrong-types.ndjson", Array((good + #"{"shiplog":1,"id":"t","type":"deployment.started","time":12,"data":{}}"#).utf8),
             ":2: native: time: expected a string, found 12"),
            ("wrong-detail.json", Array(#"{"version":"0","id":"e","detail-type":"ECS Task State Change","source":"aws.ecs","time":"2026-01-01T00:00:00Z","resources":[],"detail":[]}"#.utf8),
             "eventbridge: detail: expected an object, found array"),
            ("commits.json", Array(#"{"ref":"refs/heads/main","before":"a","after":"b","pusher":{"name":"x"},"commits":"all","repository":{"full_name":"o/r"},"sender":{"login":"x"}}"#.utf8),
             "github: commits: expected an array, found string"),
            ("deep.json", Array((String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)).utf8), "nesting deeper than"),
            ("utf8.ndjson", Array(good.utf8) + Array("{\"shiplog\":1,\"id\":\"".utf8) + [0xC3, 0x28] + Array("\"}\n".utf8),
             ":2: invalid UTF-8"),
            ("empty.json", [], ":1: empty input"),
            ("binary.bin", [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00] + Array(repeating: 0, count: 64), ":1: binary data"),
            ("huge-field.ndjson",
             Array(NativeEvents.line(NewEvent(id: "h", type: "deployment.started", time: NativeEvents.base,
                                               data: ["cluster": .string(String(repeating: "c", count: 70_000)), "service": "P1"])).utf8),
             "longer than 65536"),
        ]
        // A document over the 64 MiB limit.
        cases.append(("huge.json", Array("{\"shiplog\":1,\"id\":\"big\",\"pad\":\"".utf8) + Array(repeating: UInt8(ascii: "x"), count: 65 << 20)
                      + Array("\"}".utf8), "larger than 64 MiB"))
        for testCase in cases {
            let file = directory.write(testCase.name, bytes: testCase.bytes)
            let result = try ShiplogProcess.run(["ingest", "--db", db, file])
            #expect(result.status == 3, "\(testCase.name): exit \(result.status) \(result.errors)")
            #expect(result.errors.contains(file + ":"), "\(testCase.name): \(result.errors)")
            #expect(result.errors.contains(testCase.reason), "\(testCase.name): \(result.errors.prefix(400))")
            let after = try #require(try EventStore(path: db).head())
            #expect(after.position == before.position && after.chain == before.chain, "\(testCase.name) changed the store")
        }
    }

    @Test func aSnapshotIngestedTwiceAddsNothingEvenWithoutATimeOfItsOwn() throws {
        try initStore()
        let listing = try Fixtures.documents(in: ["aws-cli"])
        let first = try JSONParser.parse(try ShiplogProcess.run(["ingest", "--db", db, "--format", "json"] + listing).output)
        #expect((first["appended"]?.int ?? 0) > 0)
        let second = try JSONParser.parse(try ShiplogProcess.run(["ingest", "--db", db, "--format", "json"] + listing).output)
        #expect(second["appended"] == 0)
        #expect(second["rejected"] == 0)
    }

    @Test func recordReadsTheGitHubEnvironmentAndIsIdempotentWithinARun() throws {
        try initStore()
        let environment = [
            "GITHUB_REPOSITORY": "mlpipe-team/ml-pipe", "GITHUB_SHA": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
            "GITHUB_RUN_ID": "8001000001", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_ACTOR": "jiwoo",
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_WORKFLOW": "deploy_alpha",
        ]
        let digest = "sha256:" + String(repeating: "1", count: 64)
        let image = ["record", "image", "--db", db, "--repository", "ml-pipe/p1-crawler", "--digest", digest, "--tag", "latest"]
        let first = try ShiplogProcess.run(image, environment: environment)
        #expect(first.status == 0 && first.output.hasPrefix("recorded image.pushed gha:"), "\(first.errors)")
        #expect(try ShiplogProcess.run(image, environment: environment).output.hasPrefix("already recorded"))
        let metadata = #"{"containerimage.digest": "\#(digest)", "image.name": "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/ml-pipe/p1-crawler:latest,123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/ml-pipe/p1-crawler:a1b2c3d"}"#
        let fromMetadata = try ShiplogProcess.run(["record", "image", "--db", db, "--metadata", metadata, "--dry-run"], environment: environment)
        let event = try JSONParser.parse(fromMetadata.output)
        #expect(event["data"]?["tags"] == ["latest", "a1b2c3d"])
        #expect(event["data"]?["registry"] == "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com")
        #expect(event["data"]?["commit"] == "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678")
        #expect(event["data"]?["runId"] == "8001000001")
        #expect(event["data"]?["actor"] == "jiwoo")
        for arguments in [
            ["record", "build", "--db", db, "--status", "completed", "--conclusion", "success"],
            ["record", "push", "--db", db, "--ref", "refs/heads/main"],
            ["record", "taskdef", "--db", db, "--file", Fixtures.path("aws-cli/14-ecs-register-task-definition-p1-crawler-rev1.json")],
            ["record", "deploy", "--db", db, "--cluster", "ML-PIPE", "--service", "P1", "--task-definition", "p1-crawler:1",
             "--status", "completed"],
            ["record", "scale", "--db", db, "--cluster", "ML-PIPE", "--service", "P1", "--desired", "4", "--previous", "2"],
            ["record", "notify", "--db", db, "--channel", "#ml-pipe-deploys", "--status", "success", "--message", "P1 deployed"],
        ] {
            let result = try ShiplogProcess.run(arguments, environment: environment)
            #expect(result.status == 0, "\(arguments[1]): \(result.errors)")
        }
        let stored = try ShiplogProcess.run(["events", "--db", db, "--format", "json"])
        let types = try JSONParser.parse(stored.output).array?.compactMap { $0["type"]?.string } ?? []
        #expect(types == ["image.pushed", "build.completed", "git.push", "taskdef.registered", "deployment.completed",
                          "service.scaled", "notification.sent"])
        #expect(!stored.output.contains("S3cretPassw0rd"))
        let missing = try ShiplogProcess.run(["record", "image", "--db", db, "--repository", "r"])
        #expect(missing.status == 2 && missing.errors.contains("--digest is required"))
    }
}
