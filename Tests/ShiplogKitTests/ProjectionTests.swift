import ShiplogKit
import ShiplogTestSupport
import Testing

/// The fixture scenario (Tests/Fixtures/SCENARIO.md) through the projections and queries.
@Suite struct ProjectionScenarioTests {
    static let files: [String] = (try? Fixtures.documents(in: ["github", "aws-eventbridge", "aws-cloudtrail"])) ?? []
    let c1 = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"

    /// A store holding `files`, ingested one run per group (each run appends and folds on its own).
    static func store(_ groups: [[String]], in directory: TemporaryDirectory, name: String = "store.db") throws -> EventStore {
        let store = try EventStore(path: directory.file(name), mode: .create)
        for group in groups {
            var options = IngestOptions()
            options.batchSize = 7
            let report = try Ingestor(store: store, options: options).ingest(files: group) { _ in }
            #expect(report.rejected == 0)
        }
        return store
    }

    @Test func whereShowsWhatRunsAfterTheRollbackAndTheScaleOut() throws {
        let directory = TemporaryDirectory()
        let store = try Self.store([Self.files], in: directory)
        let now = try store.whereRunning()
        #expect(now.map { "\($0.cluster)/\($0.service)" } == ["ML-PIPE/P1", "ML-PIPE/P2"])
        let p1 = now[0]
        #expect(p1.taskDefinition?.description == "p1-crawler:7")
        #expect(p1.deploymentID == "ecs-svc/3333333333333333333")
        #expect(p1.status == .completed)
        #expect(p1.images.first?.digest == d1)
        #expect(p1.images.first?.digestSource == .reported)
        #expect(p1.commit == c1)
        #expect(p1.desiredCount == 4)
        #expect(p1.deployedBy == "ecs.amazonaws.com")
        let p2 = now[1]
        #expect(p2.taskDefinition?.description == "p2-resizer:3")
        #expect(p2.images.first?.digest == d4)
        // As of moments in the story:
        let duringBadRelease = try store.whereRunning(service: "P1", asOf: Timestamp(iso8601: "2026-03-05T02:06:00Z"))[0]
        #expect(duringBadRelease.taskDefinition?.description == "p1-crawler:8")
        #expect(duringBadRelease.status == .inProgress)
        #expect(duringBadRelease.images.first?.digest == d2)
        let afterFailure = try store.whereRunning(service: "P1", asOf: Timestamp(iso8601: "2026-03-05T02:09:00.800Z"))[0]
        #expect(afterFailure.taskDefinition?.description == "p1-crawler:7")
        #expect(afterFailure.deploymentID == "ecs-svc/1111111111111111111")
        let beforeScaleOut = try store.whereRunning(service: "P1", asOf: Timestamp(iso8601: "2026-03-06T04:59:59Z"))[0]
        #expect(beforeScaleOut.desiredCount == 2)
        #expect(try store.whereRunning(asOf: Timestamp(iso8601: "2026-02-01T00:00:00Z")).isEmpty)
    }

    @Test func historyKeepsEveryAttemptWithItsOutcomeAndDigest() throws {
        let directory = TemporaryDirectory()
        let store = try Self.store([Self.files], in: directory)
        let history = try store.history(cluster: "ML-PIPE", service: "P1")
        #expect(history.map(\.deploymentID) == [
            "ecs-svc/3333333333333333333", "ecs-svc/2222222222222222222", "ecs-svc/1111111111111111111",
        ])
        #expect(history.map(\.status) == [.completed, .rolledBack, .completed])
        // :latest moved from D1 to D2: each deployment shows the digest it really ran.
        #expect(history.map { $0.images.first?.digest } == [d1, d2, d1])
        #expect(history.allSatisfy { $0.images.first?.digestSource == .reported })
        #expect(history[1].rolledBackBy == "ecs-svc/3333333333333333333")
        #expect(history[1].finishedAt == Timestamp(iso8601: "2026-03-05T02:09:00.583Z"))
        #expect(history[1].actor == ciRole)
        #expect(history[0].rollbackTo == "ecs-svc/1111111111111111111")
        // Inferred from the deployment it rolled back to at first, then reported by its tasks.
        #expect(history[0].taskDefinition?.description == "p1-crawler:7")
        #expect(!history[0].taskDefinitionInferred)
        #expect(history[2].commit == c1)
        #expect(history[2].liveFrom == Timestamp(iso8601: "2026-03-02T01:04:05Z"))
        #expect(history[2].liveUntil == Timestamp(iso8601: "2026-03-05T02:04:05Z"))
        let failedOnly = try store.history(cluster: "ML-PIPE", service: "P1", filter: {
            var filter = HistoryFilter()
            filter.statuses = [.rolledBack, .failed]
            return filter
        }())
        #expect(failedOnly.count == 1)
    }

    @Test func traceFollowsLatestAcrossItsDigestsAndAFailedBuildNeverDeploys() throws {
        let directory = TemporaryDirectory()
        let store = try Self.store([Self.files], in: directory)
        let latest = try store.trace("ml-pipe/p1-crawler:latest")
        #expect(latest.kind == .imageTag)
        #expect(latest.images.map(\.digest) == [d1, d2])
        #expect(latest.images[0].tags.first { $0.tag == "latest" }?.until == Timestamp(iso8601: "2026-03-05T02:03:30Z"))
        #expect(Set(latest.deployments.compactMap(\.deploymentID)) == [
            "ecs-svc/1111111111111111111", "ecs-svc/2222222222222222222", "ecs-svc/3333333333333333333",
        ])
        let commit = try store.trace("a1b2c3d")
        #expect(commit.commits.map(\.sha) == [c1])
        #expect(commit.builds.map(\.runID) == ["8001000001"])
        #expect(commit.images.contains { $0.repository == "ml-pipe/p1-crawler" && $0.digest == d1 })
        #expect(commit.deployments.compactMap(\.deploymentID).sorted() == ["ecs-svc/1111111111111111111", "ecs-svc/3333333333333333333"])
        let failed = try store.trace("e3f4a5b6")
        #expect(failed.builds.map(\.conclusion) == ["failure"])
        #expect(failed.images.isEmpty && failed.deployments.isEmpty)
        let revision = try store.trace("p2-resizer:3")
        #expect(revision.kind == .taskDefinition)
        #expect(revision.taskDefinitions.first?.containers.first?.digestSource == .pinned)
        #expect(revision.deployments.map(\.deploymentID) == ["ecs-svc/4444444444444444444"])
        #expect(throws: QueryError.self) { try store.trace("0000000") }
    }

    @Test func diffShowsTheImageChangeBetweenTheReleases() throws {
        let directory = TemporaryDirectory()
        let store = try Self.store([Self.files], in: directory)
        let diff = try store.diff(cluster: "ML-PIPE", service: "P1", from: "7", to: "ecs-svc/2222222222222222222")
        #expect(diff.from.taskDefinition.description == "p1-crawler:7")
        #expect(diff.containers.map(\.change) == ["digest"])
        #expect(diff.containers[0].fromDigest == d1 && diff.containers[0].toDigest == d2)
        #expect(diff.environmentAdded.isEmpty && diff.environmentRemoved.isEmpty)
        #expect(diff.commitsUnknownReason != nil)  // nothing in the log ties D2 to a commit
    }

    @Test func shuffledLateAndDuplicatedInputGivesByteIdenticalAnswers() throws {
        let ordered = TemporaryDirectory()
        let reference = try Self.store([Self.files], in: ordered)
        var generator = SeededGenerator(seed: 42)
        for trial in 0..<3 {
            let directory = TemporaryDirectory()
            // One file per run, in a random order, a few of them twice: every late event refolds.
            var files = Self.files.shuffled(using: &generator)
            files += files.prefix(6)
            let store = try Self.store(files.map { [$0] }, in: directory)
            #expect(try Self.answers(store) == Self.answers(reference), "trial \(trial)")
            try store.rebuildProjections()
            #expect(try Self.answers(store) == Self.answers(reference), "trial \(trial) rebuilt")
        }
    }

    static func answers(_ store: EventStore) throws -> String {
        var text = ""
        for row in try store.whereRunning() { text += JSONWriter.canonical(.object(row.record)) + "\n" }
        for moment in ["2026-03-02T01:05:00.200Z", "2026-03-05T02:06:00Z", "2026-03-05T02:10:00Z"] {
            for row in try store.whereRunning(asOf: Timestamp(iso8601: moment)) { text += JSONWriter.canonical(.object(row.record)) + "\n" }
        }
        for service in ["P1", "P2"] {
            for row in try store.history(cluster: "ML-PIPE", service: service) { text += JSONWriter.canonical(.object(row.record)) + "\n" }
        }
        for reference in ["a1b2c3d", "ml-pipe/p1-crawler:latest", "p1-crawler:8", d4] {
            text += JSONWriter.canonical(.object(try store.trace(reference).record)) + "\n"
        }
        return text
    }
}

/// A small deterministic generator, so a failing property trial can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random pipelines: whatever the order and repetition of their events, incremental folding,
/// a rebuild and an ordered ingest leave identical projections.
@Suite struct ProjectionPropertyTests {
    /// Random native events of a few services: releases that complete, fail or get rolled back,
    /// tasks reporting digests, scalings, tag pushes that move :latest, registrations.
    static func randomPipeline(seed: UInt64) -> [NewEvent] {
        var random = SeededGenerator(seed: seed)
        var events: [NewEvent] = []
        var clock = Timestamp.utc(year: 2026, month: 1, day: 1).microseconds
        var sequence = 0
        func emit(_ type: String, _ data: JSONObject) {
            sequence += 1
            // Coarse clock steps so that ties at the same instant happen and must be ordered.
            clock += Int64.random(in: 0...2, using: &random) * 1_000_000
            events.append(NewEvent(id: "p\(seed)-\(sequence)", type: type, time: Timestamp(microseconds: clock), data: data))
        }
        let services = ["A", "B"]
        var revision = ["A": 0, "B": 0]
        var live: [String: String] = [:]
        for step in 0..<Int.random(in: 8...16, using: &random) {
            let service = services.randomElement(using: &random)!
            let family = "fam-\(service)"
            revision[service]! += 1
            let taskDefinition = "\(family):\(revision[service]!)"
            let digest = "sha256:" + String(format64: random.next()) + String(repeating: "0", count: 48)
            let commit = String(format64: random.next()) + String(format64: random.next()) + "00000000"
            emit("git.push", ["repository": "o/r", "ref": "refs/heads/main", "after": .string(commit), "commit": .string(commit),
                              "commits": [["sha": .string(commit)]]])
            emit("image.pushed", ["repository": .string("repo-\(service)"), "digest": .string(digest), "tags": ["latest", .string(String(commit.prefix(7)))]])
            emit("taskdef.registered", ["family": .string(family), "revision": .number(String(revision[service]!)),
                                        "taskDefinition": .string(taskDefinition),
                                        "containers": [["name": "app", "image": .string("repo-\(service):latest")]]])
            let deployment = "ecs-svc/\(seed)\(step)"
            let base: JSONObject = ["cluster": "C", "service": .string(service), "deploymentId": .string(deployment)]
            var started = base
            started["taskDefinition"] = .string(taskDefinition)
            if Bool.random(using: &random) { started["actor"] = "ci" }
            emit("deployment.started", started)
            for task in 0..<Int.random(in: 0...3, using: &random) {
                var state = base
                state["taskArn"] = .string("arn:task/\(deployment)/\(task)")
                state["lastStatus"] = .string(["RUNNING", "RUNNING", "STOPPED", "PENDING"].randomElement(using: &random)!)
                state["containers"] = [["name": "app", "digest": .string(digest)]]
                emit("task.state", state)
            }
            switch Int.random(in: 0...5, using: &random) {
            case 0, 1, 2:
                emit("deployment.completed", base)
                live[service] = deployment
            case 3:
                var failed = base
                failed["reason"] = "circuit breaker"
                emit("deployment.failed", failed)
                if let previous = live[service] {
                    var rollback: JSONObject = ["cluster": "C", "service": .string(service), "deploymentId": .string(deployment + "-rb"),
                                                "rollback": true, "rollbackTo": .string(previous)]
                    emit("deployment.started", rollback)
                    rollback["rollback"] = nil
                    emit("deployment.completed", rollback)
                }
            case 4:
                emit("service.scaled", ["cluster": "C", "service": .string(service), "desiredCount": .number(String(Int.random(in: 1...6, using: &random)))])
            default:
                break  // left in progress
            }
            if Int.random(in: 0...4, using: &random) == 0 {
                emit("service.event", ["cluster": "C", "service": .string(service), "eventName": "SERVICE_STEADY_STATE"])
            }
        }
        return events
    }

    static func dump(_ store: EventStore) throws -> [String] {
        var lines: [String] = []
        try withRawDatabase(store.path) { database in
            for table in ["taskdefs", "taskdef_containers", "tag_assignments", "image_deletions", "images", "commits", "pushes",
                          "builds", "deployments", "deployment_digests", "service_states", "bad_revisions"] {
                let columns = try database.prepare("SELECT * FROM \(table) LIMIT 0").columnCount
                let order = (1...columns).map(String.init).joined(separator: ", ")
                let statement = try database.prepare("SELECT * FROM \(table) ORDER BY \(order)")
                while try statement.step() {
                    var columns: [String] = []
                    for index in 0..<statement.columnCount { columns.append(statement.optionalText(index) ?? "NULL") }
                    lines.append(table + ": " + columns.joined(separator: " | "))
                }
            }
            let streams = try database.prepare(
                "SELECT s.name, p.last_time, p.last_rank, p.last_id, p.state FROM projection_streams p JOIN streams s ON s.id = p.stream_id ORDER BY s.name")
            while try streams.step() {
                lines.append("stream: \(streams.text(0)) \(streams.int(1)) \(streams.int(2)) \(streams.text(3)) \(streams.isNull(4) ? "" : String(decoding: streams.blob(4), as: UTF8.self))")
            }
        }
        return lines
    }

    @Test(arguments: Array(UInt64(1)...UInt64(12)))
    func incrementalEqualsRebuildEqualsOrderedIngest(seed: UInt64) throws {
        let events = Self.randomPipeline(seed: seed)
        let sorted = events.sorted { ($0.time, $0.id) < ($1.time, $1.id) }
        let orderedDirectory = TemporaryDirectory()
        let ordered = try EventStore(path: orderedDirectory.file("ordered.db"), mode: .create)
        try ordered.append(sorted.map(NativeEvents.document))
        let expected = try Self.dump(ordered)
        #expect(!expected.isEmpty)

        var random = SeededGenerator(seed: seed &* 7919)
        let shuffledDirectory = TemporaryDirectory()
        let shuffled = try EventStore(path: shuffledDirectory.file("shuffled.db"), mode: .create)
        var pending = events.shuffled(using: &random)
        pending += pending.prefix(pending.count / 4)  // duplicates, re-sent later
        while !pending.isEmpty {
            let batch = Int.random(in: 1...6, using: &random)
            try shuffled.append(pending.prefix(batch).map(NativeEvents.document))
            pending.removeFirst(min(batch, pending.count))
        }
        #expect(try Self.dump(shuffled) == expected, "incremental (seed \(seed))")
        try shuffled.rebuildProjections()
        #expect(try Self.dump(shuffled) == expected, "rebuild (seed \(seed))")
    }
}

extension String {
    init(format64 value: UInt64) {
        let hex = String(value, radix: 16)
        self = String(repeating: "0", count: 16 - hex.count) + hex
    }
}
