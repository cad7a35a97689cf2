import Foundation
import ShiplogKit
@testable import ShiplogServer
import ShiplogTestSupport
import Testing

/// `shiplog serve` over real HTTP on 127.0.0.1: who may write, what is stored, what is answered.
@Suite(.serialized) struct ServeTests {
    let directory = TemporaryDirectory()
    var db: String { directory.file("store.db") }
    static let secret = "it is a webhook secret"
    static let rotated = "the previous webhook secret"
    static let writeToken = "write-token-0123456789"
    static let readToken = "read-token-0123456789"

    func initStore() throws {
        #expect(try ShiplogProcess.run(["init", "--db", db]).status == 0)
    }

    /// A server whose GitHub secrets are one from the environment and one from a file (a rotation).
    func server(extra: String = "") throws -> ServerProcess {
        try initStore()
        let secretFile = directory.write("previous-secret", Self.rotated + "\n")
        let config = directory.write("serve.json", """
            {"github": {"secrets": [{"env": "TEST_GITHUB_SECRET"}, {"file": "\(secretFile)"}]},
             "eventbridge": {"apiKey": {"header": "x-api-key", "values": [{"env": "TEST_EB_KEY"}]},
                             "basic": {"username": "eventbridge", "passwords": [{"env": "TEST_EB_PASSWORD"}]}},
             "tokens": {"write": [{"env": "TEST_WRITE"}], "read": [{"env": "TEST_READ"}]}\(extra)}
            """)
        return try ServerProcess(db: db, arguments: ["--config", config], environment: [
            "TEST_GITHUB_SECRET": Self.secret, "TEST_EB_KEY": "eb-key-123", "TEST_EB_PASSWORD": "eb-password",
            "TEST_WRITE": Self.writeToken, "TEST_READ": Self.readToken,
        ])
    }

    func delivery(_ server: ServerProcess, event: String, id: String, body: [UInt8], secret: String? = ServeTests.secret,
                  contentType: String = "application/json") throws -> HTTPResponse {
        var headers = [("X-GitHub-Event", event), ("X-GitHub-Delivery", id), ("X-GitHub-Hook-ID", "412345678"),
                       ("Content-Type", contentType)]
        if let secret { headers.append(("X-Hub-Signature-256", Credentials.githubSignature(body: body, secret: Array(secret.utf8)))) }
        return try server.request("POST", "/hooks/github", headers: headers, body: body)
    }

    func storedEvents() throws -> [JSON] {
        let output = try ShiplogProcess.run(["events", "--db", db, "--format", "ndjson"]).output
        return try output.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name))))
    }

    @Test func theSignatureIsGitHubsDocumentedTestVector() {
        // From GitHub's "Validating webhook deliveries".
        let body = Array("Hello, World!".utf8)
        let signature = Credentials.githubSignature(body: body, secret: Array("It's a Secret to Everybody".utf8))
        #expect(signature == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
        let secrets = [SecretValue(origin: "test", value: "It's a Secret to Everybody")]
        #expect(Credentials.githubSignatureIsValid(signature, body: body, secrets: secrets))
        #expect(!Credentials.githubSignatureIsValid(signature, body: Array("Hello, World?".utf8), secrets: secrets))
        #expect(!Credentials.githubSignatureIsValid("sha256=00", body: body, secrets: secrets))
        #expect(!Credentials.githubSignatureIsValid(nil, body: body, secrets: secrets))
    }

    @Test func signedDeliveriesAreStoredOnceAndEverythingElseNothing() throws {
        let server = try server()
        let push = try Self.fixture("github/push.release-a.json")

        let first = try delivery(server, event: "push", id: "d-1", body: push)
        #expect(first.status == 200, "\(first.text)")
        #expect(first.json?["appended"] == 1)
        // GitHub redelivers with the same GUID: a duplicate, not a second event.
        let again = try delivery(server, event: "push", id: "d-1", body: push)
        #expect(again.status == 200 && again.json?["appended"] == 0 && again.json?["duplicates"] == 1, "\(again.text)")
        // Signed with the secret being rotated out: still accepted.
        let rotated = try delivery(server, event: "push", id: "d-2", body: try Self.fixture("github/push.release-c.json"),
                                   secret: Self.rotated)
        #expect(rotated.status == 200, "\(rotated.text)")

        let unsigned = try delivery(server, event: "push", id: "d-3", body: push, secret: nil)
        #expect(unsigned.status == 401 && unsigned.text.contains("missing"))
        let wrong = try delivery(server, event: "push", id: "d-4", body: push, secret: "not the secret")
        #expect(wrong.status == 401 && wrong.text.contains("does not match"))
        let tampered = try server.request("POST", "/hooks/github", headers: [
            ("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "d-5"),
            ("X-Hub-Signature-256", Credentials.githubSignature(body: push, secret: Array(Self.secret.utf8))),
        ], body: push + Array(" ".utf8))
        #expect(tampered.status == 401)

        let ping = try delivery(server, event: "ping", id: "d-6", body: Array(#"{"zen":"Design for failure.","hook_id":1}"#.utf8))
        #expect(ping.status == 200 && ping.json?["stored"] == false, "\(ping.text)")
        let star = try delivery(server, event: "star", id: "d-7", body: Array(#"{"action":"created","starred_at":"2026-03-01T00:00:00Z"}"#.utf8))
        #expect(star.status == 202 && star.json?["ignored"] == 1, "\(star.text)")
        let truncated = try delivery(server, event: "push", id: "d-8", body: Array(push.prefix(200)))
        #expect(truncated.status == 400 && (truncated.json?["error"]?.string?.isEmpty == false), "\(truncated.text)")
        let form = try delivery(server, event: "push", id: "d-9", body: Array("payload=%7B%7D".utf8),
                                contentType: "application/x-www-form-urlencoded")
        #expect(form.status == 415)

        let (status, log) = server.stop()
        #expect(status == 0, "\(log)")
        #expect(!log.contains(Self.secret) && !log.contains(Self.rotated))
        let events = try storedEvents()
        #expect(events.count == 2, "the two signed pushes, once each: \(events.map { $0["id"] ?? .null })")
        #expect(events.map { $0["id"]?.string ?? "" } == ["github:delivery:d-1", "github:delivery:d-2"])
        #expect(try ShiplogProcess.run(["verify", "--db", db]).status == 0)
    }

    /// Bodies that reach the server go through the same redaction as ingest: nothing planted
    /// comes back in an answer, the server's log or the store.
    @Test func secretsInRequestBodiesReachNeitherTheLogNorTheAnswers() throws {
        let server = try server()
        let planted = PlantedSecretsTests.textSecrets
        let body = Array(JSONWriter.compact([
            "ref": "refs/heads/main", "before": "0000000000000000000000000000000000000000",
            "after": "1234567890abcdef1234567890abcdef12345678",
            "repository": ["full_name": "ml-pipe/planted"], "pusher": ["name": "t"], "sender": ["login": "t"],
            "hook": ["config": ["secret": "PLANT-hook-secret"]], "password": 424242424242,
            "head_commit": ["id": "1234567890abcdef1234567890abcdef12345678", "message": .string(planted),
                            "timestamp": "2026-03-09T00:00:00Z"],
            "commits": [["id": "1234567890abcdef1234567890abcdef12345678", "message": .string(planted), "timestamp": "2026-03-09T00:00:00Z"]],
        ]).utf8)
        let stored = try delivery(server, event: "push", id: "planted-1", body: body)
        #expect(stored.status == 200, "\(stored.text)")
        let broken = try server.request("POST", "/events", headers: [("Authorization", "Bearer \(Self.writeToken)")],
                                        body: Array((#"{"password": "PLANT-in-a-bad-body", "note": "\#(planted)""#).utf8))
        #expect(broken.status == 400)
        var answers = stored.text + broken.text
        for path in ["/api/events", "/api/events?format=csv", "/api/trace/1234567"] {
            answers += try server.request("GET", path, headers: [("Authorization", "Bearer \(Self.readToken)")]).text
        }
        let (_, log) = server.stop()
        for (place, text) in [("answers", answers), ("server log", log), ("events", try ShiplogProcess.run(["events", "--db", db, "--format", "ndjson"]).output)] {
            for needle in ["PLANT", "424242424242"] { #expect(!text.contains(needle), "\(needle) in the \(place)") }
        }
    }

    @Test func eventBridgeCallsNeedTheConnectionsCredentials() throws {
        let server = try server()
        let event = try Self.fixture("aws-eventbridge/ecs.deployment.completed.1111.json")
        let withKey = try server.request("POST", "/hooks/eventbridge", headers: [("x-api-key", "eb-key-123")], body: event)
        #expect(withKey.status == 200 && withKey.json?["appended"] == 1, "\(withKey.text)")
        let basic = "Basic " + Data("eventbridge:eb-password".utf8).base64EncodedString()
        let retried = try server.request("POST", "/hooks/eventbridge", headers: [("Authorization", basic)], body: event)
        #expect(retried.status == 200 && retried.json?["duplicates"] == 1, "EventBridge retries are duplicates: \(retried.text)")
        for headers in [[("x-api-key", "eb-key-124")], [("Authorization", "Basic " + Data("eventbridge:nope".utf8).base64EncodedString())], []] {
            let refused = try server.request("POST", "/hooks/eventbridge", headers: headers,
                                             body: try Self.fixture("aws-eventbridge/ecs.deployment.completed.3333.json"))
            #expect(refused.status == 401)
        }
        server.stop()
        #expect(try storedEvents().count == 1)
    }

    @Test func nativeEventsNeedAWriteTokenAndABadBatchStoresNothing() throws {
        let server = try server()
        let lines = (1...3).map { NativeEvents.line(NativeEvents.deployment($0)) }.joined(separator: "\n") + "\n"
        let write = [("Authorization", "Bearer \(Self.writeToken)")]
        #expect(try server.request("POST", "/events", body: Array(lines.utf8)).status == 401)
        #expect(try server.request("POST", "/events", headers: [("Authorization", "Bearer \(Self.readToken)")], body: Array(lines.utf8)).status == 403)
        #expect(try server.request("POST", "/events", headers: [("Authorization", "Bearer wrong")], body: Array(lines.utf8)).status == 401)
        let bad = lines + #"{"shiplog":1,"id":"t","type":"deployment.started","time":12,"data":{}}"# + "\n"
        let refused = try server.request("POST", "/events", headers: write, body: Array(bad.utf8))
        #expect(refused.status == 400)
        #expect(refused.json?["reasons"]?[0]?.string?.contains("request:4: native: time: expected a string, found 12") == true, "\(refused.text)")
        let stored = try server.request("POST", "/events", headers: write, body: Array(lines.utf8))
        #expect(stored.status == 200 && stored.json?["appended"] == 3, "\(stored.text)")
        server.stop()
        #expect(try storedEvents().count == 3)
    }

    @Test func theReadAPIAnswersWithTheCLIsBytes() throws {
        try initStore()
        let folders = try Fixtures.documents(in: ["github", "aws-eventbridge", "aws-cloudtrail"])
        #expect(try ShiplogProcess.run(["ingest", "--db", db] + folders).status == 0)
        let server = try ServerProcess(db: db, environment: ["SHIPLOG_READ_TOKEN": Self.readToken])
        let read = [("Authorization", "Bearer \(Self.readToken)")]
        #expect(try server.request("GET", "/api/where").status == 401)
        let pairs: [(String, [String])] = [
            ("/api/where", ["where", "--format", "json"]),
            ("/api/where?format=csv", ["where", "--format", "csv"]),
            ("/api/where?asOf=2026-03-02T01:05:00Z", ["where", "--as-of", "2026-03-02T01:05:00Z", "--format", "json"]),
            ("/api/history/P1", ["history", "P1", "--format", "json"]),
            ("/api/history/P1?format=ndjson&limit=2", ["history", "P1", "--format", "ndjson", "--limit", "2"]),
            ("/api/trace/a1b2c3d", ["trace", "a1b2c3d", "--format", "json"]),
            ("/api/rollback/P2", ["rollback", "P2", "--format", "json"]),
            ("/api/events?type=deployment&service=P1", ["events", "--type", "deployment", "--service", "P1", "--format", "json"]),
            ("/api/diff?from=p1-crawler:7&to=p1-crawler:8", ["diff", "p1-crawler:7", "p1-crawler:8", "--format", "json"]),
            ("/api/diff?service=P1&from=7&to=8&format=csv", ["diff", "P1", "7", "8", "--format", "csv"]),
            ("/api/metrics?asOf=2026-03-09T00:00:00Z", ["metrics", "--as-of", "2026-03-09T00:00:00Z", "--format", "json"]),
            ("/api/metrics?asOf=2026-03-09T00:00:00Z&by=day&format=csv",
             ["metrics", "--as-of", "2026-03-09T00:00:00Z", "--by", "day", "--format", "csv"]),
        ]
        for (path, command) in pairs {
            let served = try server.request("GET", path, headers: read)
            let printed = try ShiplogProcess.run(command + ["--db", db])
            #expect(served.status == (printed.status == 0 ? 200 : 422), "\(path): \(served.text)")
            if printed.status == 0 { #expect(served.text == printed.output, "\(path) differs from shiplog \(command.joined(separator: " "))") }
        }
        // An export served is one verify --export accepts against the same log.
        let exported = try server.request("GET", "/api/export/deployments?format=csv", headers: read)
        #expect(exported.status == 200)
        let exportFile = directory.write("served-export.csv", exported.text)
        let checked = try ShiplogProcess.run(["verify", "--db", db, "--export", exportFile])
        #expect(checked.status == 0, "\(checked.output) \(checked.errors)")
        let page = try server.request("GET", "/", headers: read)
        #expect(page.status == 200 && page.text.contains("<svg") && page.header("content-type")?.hasPrefix("text/html") == true)
        let unknown = try server.request("GET", "/api/history/P9", headers: read)
        #expect(unknown.status == 404 && unknown.text.contains("no service P9"))
        #expect(try server.request("GET", "/api/where?asOf=yesterday", headers: read).status == 400)
        #expect(try server.request("GET", "/healthz").status == 200)
        #expect(try server.request("GET", "/readyz").status == 200)
        server.stop()
    }

    @Test func oversizedBodiesAndSlowClientsAreCutOffAndTheServerKeepsServing() throws {
        let server = try server(extra: #", "limits": {"maxBodyBytes": 1048576, "idleTimeoutSeconds": 1}"#)
        let big = [UInt8](repeating: UInt8(ascii: " "), count: 2 << 20)
        let tooLarge = try server.request("POST", "/events", headers: [("Authorization", "Bearer \(Self.writeToken)")], body: big)
        #expect(tooLarge.status == 413, "\(tooLarge.status) \(tooLarge.text)")
        // A client that sends half a request and stalls is disconnected by the idle timeout.
        let socket = try HTTPClient.connect(port: server.port, timeout: 10)
        try HTTPClient.send(socket, Array("POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{".utf8))
        let start = Date()
        var byte: UInt8 = 0
        let got = recv(socket, &byte, 1, 0)
        close(socket)
        #expect(got <= 0 || Date().timeIntervalSince(start) < 9, "the stalled connection was closed")
        #expect(Date().timeIntervalSince(start) < 9)
        #expect(try server.request("GET", "/healthz").status == 200)
        server.stop()
        #expect(try storedEvents().isEmpty)
    }

    /// Clients send native events concurrently; the server is killed with SIGKILL in the middle.
    /// Every event that was acknowledged must be in the log after a restart, and sending
    /// everything again completes the log with the acknowledged ones counted as duplicates.
    @Test func everyAcknowledgedEventSurvivesAKillDashNine() throws {
        let server = try server()
        let clients = 8
        let perClient = 150
        let acknowledged = LockedIDs()
        let group = DispatchGroup()
        let port = server.port
        for client in 0..<clients {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                for index in 0..<perClient {
                    let event = NativeEvents.deployment(client * 10_000 + index, service: "S\(client)", id: "load-\(client)-\(index)")
                    guard let response = try? HTTPClient.request(
                        port: port, method: "POST", path: "/events", headers: [("Authorization", "Bearer \(Self.writeToken)")],
                        body: Array(NativeEvents.line(event).utf8), timeout: 10)
                    else { return }  // the server is gone
                    if response.status == 200 { acknowledged.insert(event.id) }
                }
            }
        }
        // Kill once a good part has been acknowledged, while clients are still sending.
        let deadline = Date().addingTimeInterval(60)
        while acknowledged.count < clients * perClient / 3, Date() < deadline { usleep(2000) }
        server.kill()
        group.wait()
        let acked = acknowledged.all
        #expect(acked.count >= clients * perClient / 3 && acked.count < clients * perClient, "killed mid-load: \(acked.count)")

        let stored = Set(try storedEvents().compactMap { $0["id"]?.string })
        #expect(acked.isSubset(of: stored), "acknowledged but lost: \(acked.subtracting(stored).sorted().prefix(5))")
        #expect(try ShiplogProcess.run(["verify", "--db", db]).status == 0)

        // A client resending everything after the restart completes the log.
        let restarted = try ServerProcess(db: db, environment: ["SHIPLOG_WRITE_TOKEN": Self.writeToken])
        var all = ""
        for client in 0..<clients {
            for index in 0..<perClient {
                all += NativeEvents.line(NativeEvents.deployment(client * 10_000 + index, service: "S\(client)", id: "load-\(client)-\(index)")) + "\n"
            }
        }
        let resent = try restarted.request("POST", "/events", headers: [("Authorization", "Bearer \(Self.writeToken)")], body: Array(all.utf8))
        #expect(resent.status == 200, "\(resent.text)")
        #expect(resent.json?["duplicates"]?.int == Int64(stored.count))
        #expect(resent.json?["appended"]?.int == Int64(clients * perClient - stored.count))
        restarted.stop()
        #expect(try storedEvents().count == clients * perClient)
        #expect(try ShiplogProcess.run(["verify", "--db", db]).status == 0)
    }

    @Test func sigtermAnswersWhatWasAcceptedAndExitsZero() throws {
        let server = try server()
        let lines = (1...50).map { NativeEvents.line(NativeEvents.deployment($0)) }.joined(separator: "\n")
        #expect(try server.request("POST", "/events", headers: [("Authorization", "Bearer \(Self.writeToken)")], body: Array(lines.utf8)).status == 200)
        // Concurrent requests share transactions (group commit).
        let port = server.port
        let failures = LockedIDs()
        DispatchQueue.concurrentPerform(iterations: 8) { client in
            for index in 0..<25 {
                let event = NativeEvents.deployment(1000 + client * 100 + index, service: "C\(client)")
                let status = (try? HTTPClient.request(port: port, method: "POST", path: "/events",
                                                      headers: [("Authorization", "Bearer \(Self.writeToken)")],
                                                      body: Array(NativeEvents.line(event).utf8)))?.status
                if status != 200 { failures.insert("\(client)-\(index): \(status ?? 0)") }
            }
        }
        #expect(failures.count == 0, "\(failures.all)")
        let metrics = try server.request("GET", "/metrics").text
        #expect(metrics.contains("shiplog_events_appended_total 250"), "\(metrics)")
        #expect(metrics.contains(#"shiplog_http_requests_total{route="/events",method="POST",status="200"} 201"#), "\(metrics)")
        #expect(metrics.contains("shiplog_commits_total "))
        let (status, log) = server.stop()
        #expect(status == 0, "\(log)")
        #expect(log.contains("stopped"))
        #expect(try storedEvents().count == 250)
    }

    @Test func aSignedStoreIsAppendedToWithItsKeyAndStaysCovered() throws {
        try initStore()
        let key = directory.file("signing.key")
        #expect(try ShiplogProcess.run(["keygen", "-o", key]).status == 0)
        #expect(try ShiplogProcess.run(["record", "deploy", "--db", db, "--signing-key", key, "--cluster", "ML-PIPE", "--service", "P1",
                                        "--task-definition", "p1-crawler:1", "--status", "started"]).status == 0)
        let server = try ServerProcess(db: db, arguments: ["--signing-key", key], environment: ["SHIPLOG_WRITE_TOKEN": Self.writeToken])
        let lines = (1...5).map { NativeEvents.line(NativeEvents.deployment($0)) }.joined(separator: "\n")
        let stored = try server.request("POST", "/events", headers: [("Authorization", "Bearer \(Self.writeToken)")], body: Array(lines.utf8))
        #expect(stored.status == 200, "\(stored.text)")
        server.stop()
        let verified = try ShiplogProcess.run(["verify", "--db", db, "--public-key", key + ".pub"])
        #expect(verified.status == 0, "\(verified.output) \(verified.errors)")
    }

    @Test func theConfigurationNamesSecretsAndNeverShowsThem() throws {
        try initStore()
        let inline = directory.write("inline.json", #"{"github": {"secrets": ["hunter2-inline"]}}"#)
        let refused = try ShiplogProcess.run(["serve", "--db", db, "--config", inline, "--check-config"])
        #expect(refused.status == 2 && refused.errors.contains("must name where the secret is") && !refused.errors.contains("hunter2"))
        let missing = directory.write("missing.json", #"{"tokens": {"write": [{"env": "NOT_SET_ANYWHERE"}]}}"#)
        let unset = try ShiplogProcess.run(["serve", "--db", db, "--config", missing, "--check-config"])
        #expect(unset.status == 2 && unset.errors.contains("NOT_SET_ANYWHERE is not set"))
        let good = directory.write("good.json", #"{"listen": "127.0.0.1:9999", "tokens": {"write": [{"env": "TOKEN_A"}]}}"#)
        let checked = try ShiplogProcess.run(["serve", "--db", db, "--config", good, "--check-config"], environment: ["TOKEN_A": "s3cr3t-value"])
        #expect(checked.status == 0 && checked.output.contains("write tokens: $TOKEN_A") && !checked.output.contains("s3cr3t-value"))
        let typo = directory.write("typo.json", #"{"token": {}}"#)
        #expect(try ShiplogProcess.run(["serve", "--db", db, "--config", typo, "--check-config"]).errors.contains("unknown setting token"))
    }
}

extension ServeTests {
    /// Appends that arrive while a transaction is being written share the next one.
    @Test func concurrentAppendsShareTransactions() async throws {
        try initStore()
        let metrics = ServerMetrics()
        let committer = GroupCommitter(store: UncheckedStore(try EventStore(path: db)), metrics: metrics)
        let results = try await withThrowingTaskGroup(of: IntakeResult.self) { group in
            for index in 0..<64 {
                group.addTask { try await committer.append([NativeEvents.document(NativeEvents.deployment(index, service: "G\(index % 4)"))]) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        await committer.shutdown()
        #expect(results.map(\.appended).reduce(0, +) == 64)
        let commits = String(decoding: metrics.text, as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix("shiplog_commits_total ") }.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        #expect(commits >= 1 && commits < 32, "64 appends in \(commits) transactions")
        #expect(try EventStore(path: db).verify().ok)
    }

    /// Every route and most statuses, observed on a live server, checked against
    /// schema/openapi.yaml by tools/openapi-check (documented routes never observed fail too).
    @Test func theServerMatchesItsOpenAPIDocument() throws {
        let server = try server()
        #expect(try ShiplogProcess.run(["ingest", "--db", db] + (try Fixtures.documents(in: ["aws-eventbridge", "aws-cloudtrail"]))).status == 0)
        var exchanges: [JSON] = []
        func observe(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []) throws {
            let response = try server.request(method, path, headers: headers, body: body)
            exchanges.append([
                "method": .string(method), "path": .string(path), "status": .number(String(response.status)),
                "contentType": .string(response.header("content-type") ?? ""), "body": .string(response.text),
            ])
        }
        let read = [("Authorization", "Bearer \(Self.readToken)")]
        let write = [("Authorization", "Bearer \(Self.writeToken)")]
        let push = try Self.fixture("github/push.release-a.json")
        func signed(_ event: String, _ id: String, _ body: [UInt8]) -> [(String, String)] {
            [("X-GitHub-Event", event), ("X-GitHub-Delivery", id), ("Content-Type", "application/json"),
             ("X-Hub-Signature-256", Credentials.githubSignature(body: body, secret: Array(Self.secret.utf8)))]
        }
        try observe("POST", "/hooks/github", headers: signed("push", "o-1", push), body: push)
        try observe("POST", "/hooks/github", headers: signed("ping", "o-2", Array("{}".utf8)), body: Array("{}".utf8))
        try observe("POST", "/hooks/github", headers: signed("star", "o-3", Array("{}".utf8)), body: Array("{}".utf8))
        try observe("POST", "/hooks/github", headers: signed("push", "o-4", Array("{".utf8)), body: Array("{".utf8))
        try observe("POST", "/hooks/github", headers: [("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "o-5")], body: push)
        let eventBridge = try Self.fixture("aws-eventbridge/ecs.deployment.completed.4444.json")
        try observe("POST", "/hooks/eventbridge", headers: [("x-api-key", "eb-key-123")], body: eventBridge)
        try observe("POST", "/hooks/eventbridge", body: eventBridge)
        let readOnlyCall = try Self.fixture("aws-cloudtrail/ecs.DescribeServices.readonly.json")
        try observe("POST", "/hooks/eventbridge", headers: [("x-api-key", "eb-key-123")], body: readOnlyCall)
        try observe("POST", "/events", headers: write, body: Array(NativeEvents.line(NativeEvents.deployment(1)).utf8))
        try observe("POST", "/events", headers: write, body: Array("not json".utf8))
        try observe("POST", "/events", headers: read, body: Array("{}".utf8))
        let conflicting = NativeEvents.deployment(2, id: NativeEvents.deployment(1).id)
        try observe("POST", "/events", headers: write, body: Array(NativeEvents.line(conflicting).utf8))
        try observe("GET", "/healthz")
        try observe("GET", "/metrics")
        try observe("GET", "/readyz")
        for path in ["/api/where", "/api/where?format=csv", "/api/where?format=ndjson", "/api/where?asOf=never", "/api/history/P1",
                     "/api/history/P1?format=csv", "/api/history/P9", "/api/trace/p1-crawler:7", "/api/trace/nothing",
                     "/api/rollback/P2", "/api/rollback/P1", "/api/events?type=deployment", "/api/events?format=ndjson&limit=3",
                     "/api/diff?from=p1-crawler:7&to=p1-crawler:8", "/api/diff?from=7", "/api/metrics", "/api/metrics?by=year"] {
            try observe("GET", path, headers: read)
        }
        for path in ["/", "/?since=2026-03-01", "/api/export/deployments", "/api/export/events?format=csv", "/api/export/nothing"] {
            try observe("GET", path, headers: read)
        }
        try observe("GET", "/api/where")
        server.stop()
        let input = exchanges.map { JSONWriter.compact($0) }.joined(separator: "\n") + "\n"
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", packageRoot() + "/tools/openapi-check", packageRoot() + "/schema/openapi.yaml"]
        let stdin = Pipe()
        let stdout = Pipe()
        check.standardInput = stdin
        check.standardOutput = stdout
        check.standardError = stdout
        try check.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let report = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "\(report)")
    }
}

/// Event ids acknowledged by the server, collected from several client threads.
final class LockedIDs: @unchecked Sendable {
    private var ids = Set<String>()
    private let lock = NSLock()
    func insert(_ id: String) { lock.lock(); ids.insert(id); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return ids.count }
    var all: Set<String> { lock.lock(); defer { lock.unlock() }; return ids }
}
