import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

/// The `shiplog` binary, run as users run it.
@Suite struct CommandLineTests {
    let directory = TemporaryDirectory()
    var db: String { directory.file("store.db") }

    @Test func initIsIdempotentAndTheGlobalDatabaseOptionWorksBeforeTheCommand() throws {
        let first = try ShiplogProcess.run(["init", "--db", db])
        #expect(first.status == 0 && first.output.contains("created store"))
        let second = try ShiplogProcess.run(["--db", db, "init"])
        #expect(second.status == 0 && second.output.contains("store ready"))
        let fromEnvironment = try ShiplogProcess.run(["stats"], environment: ["SHIPLOG_DB": db])
        #expect(fromEnvironment.status == 0 && fromEnvironment.output.contains("events       0"))
    }

    @Test func exitStatusesFollowTheContract() throws {
        let missing = try ShiplogProcess.run(["events", "--db", directory.file("nope.db")])
        #expect(missing.status == 1)
        #expect(missing.errors.contains("no shiplog store at"))
        let usage = try ShiplogProcess.run(["events", "--db", db, "--limit", "many"])
        #expect(usage.status == 2)
        let unknown = try ShiplogProcess.run(["teleport"])
        #expect(unknown.status == 2)
        let help = try ShiplogProcess.run(["--help"])
        #expect(help.status == 0 && help.output.contains("ingest"))
    }

    @Test func ingestReportsRejectsAsFileLineReasonAndExitsThree() throws {
        try ShiplogProcess.run(["init", "--db", db])
        let file = directory.write("in.ndjson", NativeEvents.ndjson(count: 3) + "{\"shiplog\":1}\n")
        let result = try ShiplogProcess.run(["ingest", "--db", db, file])
        #expect(result.status == 3)
        #expect(result.errors.contains("\(file):4: native: id: required"))
        #expect(result.errors.contains("nothing appended"))
        #expect(result.output.contains("appended 0, duplicates 0, rejected 1"))
        let good = try ShiplogProcess.run(["ingest", "--db", db, "-"], input: NativeEvents.ndjson(count: 3))
        #expect(good.status == 0 && good.output.contains("appended 3, duplicates 0, rejected 0"))
    }

    @Test func eventsRoundTripThroughNDJSONAndEveryFormatParses() throws {
        try ShiplogProcess.run(["init", "--db", db])
        try ShiplogProcess.run(["ingest", "--db", db, directory.write("in.ndjson", NativeEvents.ndjson(count: 12))])
        let ndjson = try ShiplogProcess.run(["events", "--db", db, "--format", "ndjson"])
        #expect(ndjson.output.split(separator: "\n").count == 12)
        let again = try ShiplogProcess.run(["ingest", "--db", db, "-"], input: ndjson.output)
        #expect(again.output.contains("appended 0, duplicates 12, rejected 0"))
        let json = try ShiplogProcess.run(["events", "--db", db, "--format", "json", "--service", "S1"])
        let parsed = try JSONParser.parse(json.output)
        #expect(parsed.array?.count == 4)
        #expect(parsed[0]?["service"]?.string == "S1")
        let csv = try ShiplogProcess.run(["events", "--db", db, "--format", "csv", "--type", "deployment", "--limit", "5"])
        let rows = CSVReader.parse(csv.output)
        #expect(rows.first == StoredEvent.recordColumns)
        #expect(rows.count == 6)
        let table = try ShiplogProcess.run(["events", "--db", db])
        #expect(table.output.split(separator: "\n").allSatisfy { $0.count <= 100 })
    }

    @Test func verifyExitsFourAndNamesTheFirstBadPosition() throws {
        try ShiplogProcess.run(["init", "--db", db])
        try ShiplogProcess.run(["ingest", "--db", db, directory.write("in.ndjson", NativeEvents.ndjson(count: 30))])
        let ok = try ShiplogProcess.run(["verify", "--db", db])
        #expect(ok.status == 0 && ok.output.contains("ok: 30 events"))
        try withRawDatabase(db) { database in
            try dropAppendOnlyTriggers(database)
            try database.execute("UPDATE events SET event_time = event_time + 1 WHERE position = 17")
        }
        let bad = try ShiplogProcess.run(["verify", "--db", db])
        #expect(bad.status == 4)
        #expect(bad.errors.contains("integrity failure at position 17"))
    }

    @Test func verifyDetectsAProjectionThatNoLongerMatchesTheLogAndRebuildMendsIt() throws {
        let demo = directory.file("demo.db")
        #expect(try ShiplogProcess.run(["demo", "--db", demo]).status == 0)
        try withRawDatabase(demo) { try $0.execute("UPDATE deployments SET status = 'FAILED' WHERE status = 'COMPLETED'") }
        let bad = try ShiplogProcess.run(["verify", "--db", demo])
        #expect(bad.status == 4)
        #expect(bad.errors.contains("the projection deployments differs from a fold of the log"))
        #expect(try ShiplogProcess.run(["rebuild", "--db", demo]).status == 0)
        #expect(try ShiplogProcess.run(["verify", "--db", demo]).status == 0)
    }

    @Test func queriesAnswerInEveryFormatAndFitTheTerminal() throws {
        let demo = directory.file("demo.db")
        #expect(try ShiplogProcess.run(["demo", "--db", demo]).status == 0)
        for command in [["where"], ["history", "P1"], ["trace", "ml-pipe/p1-crawler:latest"], ["diff", "P1", "2", "3"],
                        ["where", "--as-of", "2026-11-08T10:55:00Z"], ["events", "--service", "P1"], ["metrics"],
                        ["metrics", "--by", "day", "--service", "P1", "--as-of", "2026-11-08T11:00:00Z"]] {
            let table = try ShiplogProcess.run(command + ["--db", demo])
            #expect(table.status == 0, "\(command): \(table.errors)")
            #expect(table.output.split(separator: "\n").allSatisfy { $0.count <= 100 }, "\(command) is wider than 100 columns")
            let json = try ShiplogProcess.run(command + ["--db", demo, "--format", "json"])
            #expect(throws: Never.self) { try JSONParser.parse(json.output) }
            let csv = try ShiplogProcess.run(command + ["--db", demo, "--format", "csv"])
            #expect(csv.status == 0 && CSVReader.parse(csv.output).count >= 1)
        }
        let whereJSON = try JSONParser.parse(try ShiplogProcess.run(["where", "--db", demo, "--format", "json"]).output)
        let keys = Set(whereJSON[0]?.object?.keys ?? [])
        #expect(keys.isSuperset(of: ["cluster", "service", "taskDefinition", "family", "revision", "images", "commit", "deployedAt",
                                     "deployedBy", "status", "desiredCount", "runningCount"]))
        let history = try JSONParser.parse(try ShiplogProcess.run(["history", "P1", "--db", demo, "--format", "json"]).output)
        let historyKeys = Set(history[0]?.object?.keys ?? [])
        #expect(historyKeys.isSuperset(of: [
            "deploymentId", "cluster", "service", "taskDefinition", "revision", "commit", "startedAt", "finishedAt", "status", "actor",
        ]))
        let trace = try JSONParser.parse(try ShiplogProcess.run(["trace", "p1-crawler:2", "--db", demo, "--format", "json"]).output)
        let traceKeys = Set(trace.object?.keys ?? [])
        #expect(traceKeys.isSuperset(of: ["ref", "commits", "builds", "images", "taskDefinitions", "deployments"]))
        let unknown = try ShiplogProcess.run(["history", "P9", "--db", demo])
        #expect(unknown.status == 1 && unknown.errors.contains("no service P9"))
    }

    @Test func reportAndMermaidMapThroughTheBinary() throws {
        let demo = directory.file("demo.db")
        #expect(try ShiplogProcess.run(["demo", "--db", demo]).status == 0)
        let html = directory.file("report.html")
        let report = try ShiplogProcess.run(["report", "--db", demo, "--format", "html", "--output", html])
        #expect(report.status == 0 && report.output.contains("wrote the report (2 services"))
        #expect(try String(contentsOfFile: html, encoding: .utf8).contains("<svg class=\"timeline\""))
        let markdown = try ShiplogProcess.run(["report", "--db", demo, "--since", "2026-11-08", "--until", "2026-11-09"])
        #expect(markdown.status == 0 && markdown.output.contains("## Deployments in the period"))
        let map = try ShiplogProcess.run(["where", "--db", demo, "--format", "mermaid"])
        #expect(map.status == 0 && map.output.hasPrefix("flowchart TB\n"))
        let csv = CSVReader.parse(try ShiplogProcess.run(["metrics", "--db", demo, "--format", "csv", "--by", "month"]).output)
        #expect(csv.first == DeliveryMetrics.csvColumns)
        #expect(csv.dropFirst().map { "\($0[0]) \($0[1]) \($0[2])" } == [
            "2026-11 all 4", "2026-11 ML-PIPE/P1 2", "2026-11 ML-PIPE/P2 2", "total all 4", "total ML-PIPE/P1 2", "total ML-PIPE/P2 2",
        ])
        let unknown = try ShiplogProcess.run(["metrics", "--db", demo, "--service", "P9"])
        #expect(unknown.status == 1 && unknown.errors.contains("no service P9"))
        let badPeriod = try ShiplogProcess.run(["metrics", "--db", demo, "--by", "fortnight"])
        #expect(badPeriod.status == 2)
    }

    @Test func rollbackMarkBadAuditAndExportsThroughTheBinary() throws {
        let demo = directory.file("demo.db")
        #expect(try ShiplogProcess.run(["demo", "--db", demo]).status == 0)
        let plan = try ShiplogProcess.run(["rollback", "P1", "--db", demo])
        #expect(plan.status == 0)
        #expect(plan.output.contains("aws ecs update-service --cluster ML-PIPE --service P1 --task-definition p1-crawler:1"))
        #expect(plan.output.contains("rolled back by the circuit breaker"))
        let veto = try ShiplogProcess.run(["mark-bad", "P1", "p1-crawler:1", "--reason", "leaks memory", "--db", demo],
                                          environment: ["USER": "auditor"])
        #expect(veto.status == 0)
        let none = try ShiplogProcess.run(["rollback", "P1", "--db", demo])
        #expect(none.status == 1 && none.errors.contains("no good target") && none.errors.contains("marked bad: leaks memory by auditor"))
        let recorded = try ShiplogProcess.run(["rollback", "P1", "--force", "--record", "--reason", "pages dropped", "--db", demo,
                                               "--format", "json"], environment: ["USER": "auditor"])
        #expect(recorded.status == 0, "\(recorded.errors)")
        #expect(try JSONParser.parse(recorded.output)["recorded"]?.string != nil)
        #expect(try ShiplogProcess.run(["rollback", "P1", "--record", "--db", demo]).status == 2)  // no --reason
        let audit = try ShiplogProcess.run(["audit", "--db", demo, "--actor", "auditor", "--format", "csv"])
        let actions = CSVReader.parse(audit.output).dropFirst().map { $0[2] }
        #expect(actions == ["mark bad", "request rollback"])
        let export = directory.file("deployments.csv")
        #expect(try ShiplogProcess.run(["export", "deployments", "--db", demo, "--format", "csv", "--output", export]).status == 0)
        #expect(try ShiplogProcess.run(["verify", "--db", demo, "--export", export]).status == 0)
        var text = try String(contentsOfFile: export, encoding: .utf8)
        text = text.replacingOccurrences(of: "github-actions", with: "mallory")
        try text.write(toFile: export, atomically: true, encoding: .utf8)
        let tampered = try ShiplogProcess.run(["verify", "--db", demo, "--export", export])
        #expect(tampered.status == 4 && tampered.errors.contains("edited after it was made"))
    }

    @Test func demoBuildsAStoreThatVerifies() throws {
        let demo = directory.file("demo.db")
        let result = try ShiplogProcess.run(["demo", "--db", demo])
        #expect(result.status == 0)
        #expect(result.output.contains("ML-PIPE"))
        #expect(try ShiplogProcess.run(["verify", "--db", demo]).status == 0)
        // Running it again replaces the earlier demo store.
        #expect(try ShiplogProcess.run(["demo", "--db", demo]).status == 0)
        let other = directory.write("precious.db", "my notes")
        #expect(try ShiplogProcess.run(["demo", "--db", other]).status == 1)
        #expect(try String(contentsOfFile: other, encoding: .utf8) == "my notes")
    }
}

/// Several writers at once, and writers killed half way.
@Suite struct ConcurrencyAndCrashTests {
    let directory = TemporaryDirectory()

    @Test func eightWritersAndAReaderAtOnceLoseNothingAndSeeNoLockErrors() throws {
        let db = directory.file("store.db")
        try ShiplogProcess.run(["init", "--db", db])
        // Eight writers used to starve one another: each took the lock again right after its
        // commit, while it parsed its next batch (tools/writers-test runs 16 x 20,000).
        let writers = 8
        let perWriter = 4_000
        let files = (0..<writers).map { writer in
            directory.write("w\(writer).ndjson", NativeEvents.ndjson(count: perWriter, services: 5, start: writer * 100_000))
        }
        nonisolated(unsafe) var results = [ShiplogProcess.Result?](repeating: nil, count: writers)
        nonisolated(unsafe) var reads: [ShiplogProcess.Result] = []
        let done = DispatchGroup()
        done.enter()
        DispatchQueue.global().async {
            // Small batches so the writers interleave their transactions.
            DispatchQueue.concurrentPerform(iterations: writers) { writer in
                results[writer] = try? ShiplogProcess.run(
                    ["ingest", "--db", db, "--skip-invalid", "--commit-every", "500", files[writer]])
            }
            done.leave()
        }
        // A reader queries all the while: every answer is a consistent snapshot, never a lock error.
        while done.wait(timeout: .now()) == .timedOut {
            for command in [["where"], ["history", "S1", "--limit", "5"], ["events", "--limit", "1", "--format", "json"]] {
                if let result = try? ShiplogProcess.run(command + ["--db", db]) { reads.append(result) }
            }
        }
        for result in results {
            #expect(result?.status == 0, "\(result?.errors ?? "did not run")")
        }
        #expect(reads.count >= 3)
        for read in reads {
            // Before any writer has committed S1, "no service S1" is the right answer.
            let answered = read.status == 0 || read.errors.contains("no service S1 in the log")
            #expect(answered && !read.errors.contains("locked") && !read.errors.contains("busy"), "\(read.errors)")
        }
        // Once the writers are done, the reader's commands must answer, or the loop above proved nothing.
        let view = try ShiplogProcess.run(["where", "--db", db])
        #expect(view.status == 0 && view.output.contains("S1"), "\(view.errors)")
        let history = try ShiplogProcess.run(["history", "S1", "--limit", "5", "--format", "ndjson", "--db", db])
        #expect(history.status == 0 && history.output.split(separator: "\n").count == 5, "\(history.errors)")
        let store = try EventStore(path: db)
        #expect(try store.stats().events == Int64(writers * perWriter))
        #expect(try store.verify().ok)
        #expect(try store.projectionsDifferFromRebuild() == nil)
    }

    /// `shiplog ingest` of a file, committing every 500 events, started and left running.
    func startIngest(_ db: String, _ file: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ShiplogProcess.executable)
        process.arguments = ["ingest", "--db", db, "--skip-invalid", "--commit-every", "500", file]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test func aSnapshotOfTheFilesTakenMidIngestVerifies() throws {
        // What a power cut leaves when the OS had written what it was given: the database and
        // WAL files as they are at one instant. The process is frozen for the copy, so the
        // instant is real; then the copy is opened like a store after a reboot.
        let db = directory.file("store.db")
        try ShiplogProcess.run(["init", "--db", db])
        let count = 20_000
        let input = NativeEvents.ndjson(count: count, services: 7)
        let ids = input.split(separator: "\n").map { try! JSONParser.parse(String($0))["id"]!.string! }
        let file = directory.write("big.ndjson", input)
        var generator = SystemRandomNumberGenerator()
        let process = try startIngest(db, file)
        var snapshots = 0
        var largest = 0
        while process.isRunning && snapshots < 8 {
            usleep(UInt32.random(in: 50_000...250_000, using: &generator))
            guard kill(process.processIdentifier, SIGSTOP) == 0 else { break }
            let copy = directory.file("snapshot-\(snapshots).db")
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: db + suffix) {
                try? FileManager.default.removeItem(atPath: copy + suffix)
                try FileManager.default.copyItem(atPath: db + suffix, toPath: copy + suffix)
            }
            kill(process.processIdentifier, SIGCONT)
            let store = try EventStore(path: copy)
            #expect(try store.verify().ok, "snapshot \(snapshots)")
            var stored: [String] = []
            try store.events(EventFilter()) { stored.append($0.id) }
            #expect(stored == Array(ids.prefix(stored.count)), "snapshot \(snapshots): not a prefix of the input")
            largest = max(largest, stored.count)
            snapshots += 1
        }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(snapshots >= 1)
        #expect(largest <= count)
    }

    @Test func anIngestKilledAtRandomMomentsLeavesAVerifiablePrefix() throws {
        let db = directory.file("store.db")
        try ShiplogProcess.run(["init", "--db", db])
        let count = 20_000
        let input = NativeEvents.ndjson(count: count, services: 7)
        let file = directory.write("big.ndjson", input)
        let ids = input.split(separator: "\n").map { try! JSONParser.parse(String($0))["id"]!.string! }
        var generator = SystemRandomNumberGenerator()
        for trial in 0..<5 {
            let process = try startIngest(db, file)
            usleep(UInt32.random(in: 20_000...400_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let store = try EventStore(path: db)
            #expect(try store.verify().ok, "trial \(trial)")
            var stored: [String] = []
            try store.events(EventFilter()) { stored.append($0.id) }
            #expect(stored == Array(ids.prefix(stored.count)), "trial \(trial): not a prefix of the input")
        }
        let rerun = try ShiplogProcess.run(["ingest", "--db", db, file])
        #expect(rerun.status == 0)
        let store = try EventStore(path: db)
        #expect(try store.stats().events == Int64(count))
        #expect(try store.verify().ok)
    }
}
