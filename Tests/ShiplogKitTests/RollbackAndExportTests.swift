import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

/// Builds a service's history from native events, one release at a time.
struct ReleaseScript {
    var events: [NewEvent] = []
    var clock = Timestamp.utc(year: 2026, month: 6, day: 1).microseconds
    var sequence = 0
    let cluster = "ML-PIPE"
    let service = "P1"

    mutating func emit(_ type: String, _ data: JSONObject) {
        sequence += 1
        clock += 60_000_000
        events.append(NewEvent(id: "script-\(sequence)", type: type, time: Timestamp(microseconds: clock), data: data))
    }

    mutating func register(_ revision: Int, env: [String] = ["LOG_LEVEL"]) {
        emit("taskdef.registered", [
            "family": "p1-crawler", "revision": .number(String(revision)), "taskDefinition": .string("p1-crawler:\(revision)"),
            "cpu": 512, "memory": 1024,
            "containers": [["name": "crawler", "image": .string("ml-pipe/p1-crawler:r\(revision)"), "envKeys": JSON(env),
                            "secrets": [["name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:ap-northeast-2:1:parameter/db"]]]],
        ])
    }

    /// A release: registered, deployed, then `outcome` (completed, failed, rolled_back, or circuit
    /// breaker: failed and rolled back to the previous deployment).
    mutating func release(_ revision: Int, outcome: String, actor: String = "ci") {
        register(revision)
        let id = "ecs-svc/\(revision)00"
        let base: JSONObject = ["cluster": .string(cluster), "service": .string(service), "deploymentId": .string(id)]
        var started = base
        started["taskDefinition"] = .string("p1-crawler:\(revision)")
        started["actor"] = .string(actor)
        emit("deployment.started", started)
        switch outcome {
        case "completed": emit("deployment.completed", base)
        case "failed": emit("deployment.failed", base.merging(["reason": "tasks kept crashing"]))
        case "circuit-breaker":
            emit("deployment.failed", base.merging(["reason": "ECS deployment circuit breaker: task failed to start."]))
            let previous = events.last { $0.type == "deployment.completed" }?.data["deploymentId"]?.string ?? "none"
            let back: JSONObject = ["cluster": .string(cluster), "service": .string(service), "deploymentId": .string(id + "-rb"),
                                    "rollback": true, "rollbackTo": .string(previous), "trigger": "circuit-breaker",
                                    "actor": "ecs.amazonaws.com"]
            emit("deployment.started", back)
            emit("deployment.completed", ["cluster": .string(cluster), "service": .string(service), "deploymentId": .string(id + "-rb")])
        default: break
        }
    }

    func store(in directory: TemporaryDirectory) throws -> EventStore {
        let store = try EventStore(path: directory.file("store.db"), mode: .create)
        try store.append(events.map(NativeEvents.document))
        return store
    }
}

extension JSONObject {
    func merging(_ other: JSONObject) -> JSONObject {
        var merged = self
        for member in other { merged[member.key] = member.value }
        return merged
    }
}

@Suite struct RollbackTests {
    let directory = TemporaryDirectory()

    func plan(_ script: ReleaseScript, _ configure: (inout RollbackRequest) -> Void = { _ in }) throws -> RollbackPlan {
        let store = try script.store(in: directory)
        var request = RollbackRequest(cluster: "ML-PIPE", service: "P1")
        configure(&request)
        return try store.planRollback(request)
    }

    @Test func rollbackPassesOverAFailedDeploymentToTheLastKnownGood() throws {
        var script = ReleaseScript()
        script.release(1, outcome: "completed")
        script.release(2, outcome: "completed")
        script.release(3, outcome: "failed")
        script.release(4, outcome: "completed")
        let plan = try plan(script)
        #expect(plan.current.taskDefinition.description == "p1-crawler:4")
        #expect(plan.target.taskDefinition.description == "p1-crawler:2")
        #expect(plan.skipped.map(\.taskDefinition) == ["p1-crawler:3"])
        #expect(plan.skipped[0].reason == "failed: tasks kept crashing")
        #expect(plan.command == "aws ecs update-service --cluster ML-PIPE --service P1 --task-definition p1-crawler:2")
        let second = try self.plan(script) { $0.steps = 2 }
        #expect(second.target.taskDefinition.description == "p1-crawler:1")
    }

    @Test func rollbackPassesOverWhatTheCircuitBreakerRolledBack() throws {
        var script = ReleaseScript()
        script.release(1, outcome: "completed")
        script.release(2, outcome: "completed")
        script.release(3, outcome: "circuit-breaker")
        // The service runs p1-crawler:2 again (the rollback deployment); the last good other revision is 1.
        let plan = try plan(script)
        #expect(plan.current.taskDefinition.description == "p1-crawler:2")
        #expect(plan.target.taskDefinition.description == "p1-crawler:1")
        #expect(plan.skipped.map(\.reason) == ["rolled back by the circuit breaker", "same revision as the current one"])
    }

    @Test func aRevisionMarkedBadIsPassedOverUnlessForced() throws {
        var script = ReleaseScript()
        script.release(1, outcome: "completed")
        script.release(2, outcome: "completed")
        script.release(3, outcome: "completed")
        script.emit("revision.marked_bad", ["cluster": "ML-PIPE", "service": "P1", "taskDefinition": "p1-crawler:2",
                                            "reason": "corrupts the queue", "actor": "minseo"])
        let plan = try plan(script)
        #expect(plan.target.taskDefinition.description == "p1-crawler:1")
        #expect(plan.skipped.first?.reason.hasPrefix("marked bad: corrupts the queue by minseo") == true)
        let forced = try self.plan(script) { $0.force = true }
        #expect(forced.target.taskDefinition.description == "p1-crawler:2")
        #expect(throws: RollbackError.self) {
            try self.plan(script) { $0.to = TaskDefinitionID("p1-crawler:2") }
        }
        script.emit("revision.unmarked_bad", ["cluster": "ML-PIPE", "service": "P1", "taskDefinition": "p1-crawler:2"])
        let directory = TemporaryDirectory()
        let store = try script.store(in: directory)
        #expect(try store.planRollback(RollbackRequest(cluster: "ML-PIPE", service: "P1")).target.taskDefinition.revision == 2)
    }

    @Test func aDeregisteredTargetComesWithItsDefinitionToRegisterAgain() throws {
        var script = ReleaseScript()
        script.release(1, outcome: "completed")
        script.release(2, outcome: "completed")
        script.emit("taskdef.deregistered", ["family": "p1-crawler", "revision": 1, "taskDefinition": "p1-crawler:1"])
        let plan = try plan(script)
        #expect(plan.target.taskDefinition.description == "p1-crawler:1")
        let registration = try #require(plan.reRegistration)
        #expect(registration.input["family"] == "p1-crawler")
        #expect(registration.input["containerDefinitions"]?[0]?["image"] == "ml-pipe/p1-crawler:r1")
        #expect(registration.input["containerDefinitions"]?[0]?["secrets"]?[0]?["valueFrom"] == "arn:aws:ssm:ap-northeast-2:1:parameter/db")
        #expect(registration.fillIn == ["containerDefinitions[crawler].environment[LOG_LEVEL].value"])
        #expect(plan.commands == [
            "aws ecs register-task-definition --cli-input-json file://p1-crawler-1.json",
            "aws ecs update-service --cluster ML-PIPE --service P1 --task-definition p1-crawler",
        ])
    }

    @Test func aDeregisteredRevisionRegisteredThroughCloudTrailIsRebuiltFromTheRequest() throws {
        let store = try ProjectionScenarioTests.store([ProjectionScenarioTests.files], in: directory)
        let registration = try #require(try store.reRegistration(for: TaskDefinitionID("p1-crawler:7")!))
        #expect(registration.source.hasPrefix("the CloudTrail RegisterTaskDefinition request"))
        #expect(registration.input["family"] == "p1-crawler")
        #expect(registration.fillIn.contains("containerDefinitions[p1-crawler].environment[DB_URL].value"))
        #expect(!JSONWriter.compact(registration.input).contains("S3cretPassw0rd"))
    }

    @Test func aServiceWithOneDeploymentHasNoTargetAndNoGuess() throws {
        var script = ReleaseScript()
        script.release(1, outcome: "completed")
        #expect {
            try self.plan(script)
        } throws: { error in
            (error as? RollbackError)?.description.hasPrefix("no good target to roll ML-PIPE/P1 back to from p1-crawler:1") == true
        }
    }

    @Test func aRecordedRollbackRequestIsLinkedToTheDeploymentThatCarriesItOut() throws {
        var script = ReleaseScript()
        script.release(1, outcome: "completed")
        script.release(2, outcome: "completed")
        script.emit("rollback.requested", ["cluster": "ML-PIPE", "service": "P1", "taskDefinition": "p1-crawler:1",
                                           "from": "p1-crawler:2", "reason": "P1 drops pages", "actor": "jiwoo"])
        script.emit("deployment.started", ["cluster": "ML-PIPE", "service": "P1", "deploymentId": "ecs-svc/999",
                                           "taskDefinition": "p1-crawler:1", "actor": "jiwoo"])
        let store = try script.store(in: directory)
        let newest = try store.history(cluster: "ML-PIPE", service: "P1")[0]
        #expect(newest.deploymentID == "ecs-svc/999")
        #expect(newest.rollbackRequest == "script-\(script.sequence - 1)")
    }
}

@Suite struct ExportTests {
    let directory = TemporaryDirectory()

    func demoStore() throws -> EventStore {
        let store = try EventStore(path: directory.file("demo.db"), mode: .create)
        try store.append(DemoScenario.documents())
        return store
    }

    func export(_ store: EventStore, _ kind: ExportKind, _ format: OutputFormat, filter: ScopeFilter = ScopeFilter()) throws -> String {
        let path = directory.file("\(kind).\(format)")
        let writer = try FileWriter(path: path)
        try store.export(kind, filter: filter, format: format, to: writer)
        try writer.close()
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test func csvAndJSONExportsParseBackToTheQueryAnswers() throws {
        let store = try demoStore()
        let history = try store.services().flatMap { try store.history(cluster: $0.cluster, service: $0.service) }
        let csv = CSVReader.parse(try export(store, .deployments, .csv))
        #expect(csv.first == DeploymentSummary.csvColumns)
        #expect(csv.last?.first?.hasPrefix("# shiplog export: ") == true)
        let rows = Array(csv.dropFirst().dropLast())
        #expect(rows.count == history.count)
        for (row, deployment) in zip(rows, history) {
            let expected = DeploymentSummary.csvColumns.map { RecordWriter.cell(deployment.record[$0]) }
            #expect(row.map(CSVReader.unneutralise) == expected)
        }
        let json = try JSONParser.parse(try export(store, .services, .json))
        let services = try store.whereRunning()
        #expect(json["rows"]?.array?.count == services.count)
        #expect(json["rows"]?[0]?.object == services[0].record)
        #expect(json["export"]?["kind"] == "services")
        #expect(json["export"]?["position"]?.int == (try store.head()?.position))
        let ndjson = try export(store, .events, .ndjson).split(separator: "\n")
        #expect(ndjson.count == Int(try store.stats().events) + 1)
        #expect(try JSONParser.parse(String(ndjson.last!))["shiplogExport"]?["rows"]?.int == Int64(ndjson.count - 1))
    }

    @Test func aFormulaInACellIsNeutralisedForSpreadsheets() throws {
        let store = try EventStore(path: directory.file("formula.db"), mode: .create)
        var event = NativeEvents.deployment(1)
        event.data["actor"] = "=HYPERLINK(\"http://evil.example/x\",\"click\")"
        try store.append([NativeEvents.document(event)])
        let text = try export(store, .deployments, .csv)
        #expect(text.contains("\"'=HYPERLINK(\"\"http://evil.example/x\"\",\"\"click\"\")\""))
        let row = CSVReader.parse(text)[1]
        #expect(row[DeploymentSummary.csvColumns.firstIndex(of: "actor")!].hasPrefix("'="))
    }

    @Test func verifyExportDetectsAnEditedExportAndAcceptsAnOlderOne() throws {
        let store = try demoStore()
        for format in [OutputFormat.csv, .json, .ndjson] {
            let text = try export(store, .deployments, format)
            #expect(try store.verifyExport(bytes: Array(text.utf8)) == .matches(position: try store.head()!.position, rows: 6))
            // An edited cell breaks the export's own checksum…
            let edited = text.replacingOccurrences(of: "ROLLED_BACK", with: "COMPLETED")
            #expect(try store.verifyExport(bytes: Array(edited.utf8)) != .matches(position: 0, rows: 0))
            if case .matches = try store.verifyExport(bytes: Array(edited.utf8)) { Issue.record("\(format): edit not detected") }
        }
        // …and an edit with a recomputed checksum no longer matches what the log gives.
        let text = try export(store, .deployments, .csv)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let manifestLine = lines.last { $0.hasPrefix("# shiplog export: ") }!
        var body = lines.prefix { !$0.hasPrefix("# shiplog export: ") }.joined(separator: "\r\n") + "\r\n"
        body = body.replacingOccurrences(of: "ROLLED_BACK", with: "COMPLETED")
        let digest = Hex.encode(Array(sha256(Array(body.utf8))))
        let oldDigest = try JSONParser.parse(String(manifestLine.dropFirst("# shiplog export: ".count)))["sha256"]!.string!
        let forged = body + manifestLine.replacingOccurrences(of: oldDigest, with: digest) + "\r\n"
        guard case .mismatch(let reason) = try store.verifyExport(bytes: Array(forged.utf8)) else {
            Issue.record("a forged export verified")
            return
        }
        #expect(reason.contains("differ from what the log gives"))
        // An export made earlier still verifies after the log has grown: it is checked as of its position.
        var later = NativeEvents.deployment(1, service: "P1", revision: 9, id: "later")
        later.data["cluster"] = "ML-PIPE"
        try store.append([NativeEvents.document(later)])
        guard case .matches = try store.verifyExport(bytes: Array(text.utf8)) else {
            Issue.record("an export of an earlier position no longer verifies")
            return
        }
    }

    @Test func theExportColumnsAreTheOnesSchemaDocuments() throws {
        let text = try String(contentsOfFile: packageRoot() + "/schema/exports.json", encoding: .utf8)
        let documented = try JSONParser.parse(text)["exports"]
        for kind in ExportKind.allCases {
            #expect(documented?[kind.rawValue]?.array?.compactMap { $0["name"]?.string } == kind.columns)
        }
    }
}
