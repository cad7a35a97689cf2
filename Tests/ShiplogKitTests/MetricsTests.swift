import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

/// A service's history at exact times, so every DORA figure can be worked out by hand.
struct MetricsScript {
    var events: [NewEvent] = []
    var head: String?
    let cluster = "ML-PIPE"
    let service = "P1"

    static func at(_ day: Int, _ hour: Int, _ minute: Int = 0) -> Timestamp {
        Timestamp.utc(year: 2026, month: 6, day: day, hour: hour, minute: minute)
    }

    static func sha(_ name: String) -> String {
        String(repeating: name, count: 40 / name.count + 1).prefix(40).description
    }

    mutating func emit(_ type: String, _ time: Timestamp, _ data: JSONObject) {
        events.append(NewEvent(id: "metrics-\(events.count + 1)", type: type, time: time, data: data))
    }

    /// A push of commits (name, commit time), after the previous push's head.
    mutating func push(_ commits: [(String, Timestamp)], at time: Timestamp) {
        let after = Self.sha(commits.last!.0)
        var data: JSONObject = [
            "repository": "acme/ml-pipe", "ref": "refs/heads/main", "after": .string(after), "actor": "jiwoo",
            "commits": .array(commits.map { .object(["sha": .string(Self.sha($0.0)), "time": .string($0.1.rfc3339)]) }),
        ]
        if let head { data["before"] = .string(head) }
        emit("git.push", time, data)
        head = after
    }

    /// A deployment of `p1-crawler:revision` carrying `commit`, ending with `outcome`:
    /// completed, failed, or circuit-breaker (failed, then ECS rolls back to the previous deployment).
    mutating func deploy(
        _ revision: Int, commit: String, started: Timestamp, finished: Timestamp, outcome: String = "completed", id: String? = nil
    ) {
        let id = id ?? "ecs-svc/\(revision)00"
        let base: JSONObject = ["cluster": .string(cluster), "service": .string(service), "deploymentId": .string(id)]
        var start = base
        start["taskDefinition"] = .string("p1-crawler:\(revision)")
        start["commit"] = .string(Self.sha(commit))
        start["actor"] = "github-actions"
        emit("deployment.started", started, start)
        switch outcome {
        case "completed": emit("deployment.completed", finished, base)
        case "failed": emit("deployment.failed", finished, base.merging(["reason": "tasks kept crashing"]))
        default:
            let previous = events.last { $0.type == "deployment.completed" }!.data["deploymentId"]!.string!
            emit("deployment.failed", finished, base.merging(["reason": "ECS deployment circuit breaker: task failed to start."]))
            let back: JSONObject = [
                "cluster": .string(cluster), "service": .string(service), "deploymentId": .string(id + "-rb"), "rollback": true,
                "rollbackTo": .string(previous), "trigger": "circuit-breaker", "actor": "ecs.amazonaws.com",
            ]
            emit("deployment.started", finished, back)
            emit("deployment.completed", Timestamp(microseconds: finished.microseconds + 600_000_000),
                 ["cluster": .string(cluster), "service": .string(service), "deploymentId": .string(id + "-rb")])
        }
    }

    /// The scenario the tests below work out by hand (times UTC, June 2026):
    ///
    ///     1st 08:00 commit a, pushed 09:00; rev1 (a) 10:00–10:30 COMPLETED
    ///     1st 11:00 b1, 12:00 b2, pushed together 12:10; rev2 (b2) 13:00–13:20 COMPLETED
    ///     1st 14:00 c, pushed 14:05; rev3 (c) 15:00–15:10 FAILED
    ///     1st 15:30 d, pushed 15:35; rev4 (d) 16:00–16:15 COMPLETED (ships c and d)
    ///     2nd 09:00 e, pushed 09:05; rev5 (e) 10:00–10:10 FAILED, circuit breaker back to rev4, done 10:20
    ///     3rd 09:00 f, pushed 09:05; rev6 (f) 10:00–10:30 COMPLETED (ships e and f)
    ///     3rd 11:00–11:10 rev4 deployed again by hand: a rollback of rev6
    ///     3rd 12:00 rev2 marked bad
    static func scenario() -> MetricsScript {
        var script = MetricsScript()
        script.push([("a", at(1, 8))], at: at(1, 9))
        script.deploy(1, commit: "a", started: at(1, 10), finished: at(1, 10, 30))
        script.push([("b1", at(1, 11)), ("b2", at(1, 12))], at: at(1, 12, 10))
        script.deploy(2, commit: "b2", started: at(1, 13), finished: at(1, 13, 20))
        script.push([("c", at(1, 14))], at: at(1, 14, 5))
        script.deploy(3, commit: "c", started: at(1, 15), finished: at(1, 15, 10), outcome: "failed")
        script.push([("d", at(1, 15, 30))], at: at(1, 15, 35))
        script.deploy(4, commit: "d", started: at(1, 16), finished: at(1, 16, 15))
        script.push([("e", at(2, 9))], at: at(2, 9, 5))
        script.deploy(5, commit: "e", started: at(2, 10), finished: at(2, 10, 10), outcome: "circuit-breaker")
        script.push([("f", at(3, 9))], at: at(3, 9, 5))
        script.deploy(6, commit: "f", started: at(3, 10), finished: at(3, 10, 30))
        script.deploy(4, commit: "d", started: at(3, 11), finished: at(3, 11, 10), id: "ecs-svc/manual-back")
        script.emit("revision.marked_bad", at(3, 12), [
            "cluster": "ML-PIPE", "service": "P1", "taskDefinition": "p1-crawler:2", "reason": "corrupts the queue", "actor": "minseo",
        ])
        return script
    }

    func store(in directory: TemporaryDirectory) throws -> EventStore {
        let store = try EventStore(path: directory.file("metrics.db"), mode: .create)
        try store.append(events.map(NativeEvents.document))
        return store
    }
}

@Suite struct MetricsTests {
    let directory = TemporaryDirectory()

    func metrics(_ configure: (inout MetricsRequest) -> Void = { _ in }) throws -> DeliveryMetrics {
        let store = try MetricsScript.scenario().store(in: directory)
        var request = MetricsRequest()
        request.asOf = MetricsScript.at(30, 0)
        configure(&request)
        return try store.metrics(request)
    }

    @Test func everyCommitADeploymentBroughtHasALeadTimeNotOnlyItsHead() throws {
        let metrics = try metrics()
        let leadTimes = Dictionary(uniqueKeysWithValues: metrics.leadTimes.map { ($0.commit, $0.seconds) })
        let sha = MetricsScript.sha
        #expect(leadTimes == [
            sha("a"): 9000,  // 08:00 → 10:30
            sha("b1"): 8400, sha("b2"): 4800,  // pushed together, shipped by rev2 at 13:20
            sha("c"): 8100, sha("d"): 2700,  // c's deployment failed; rev4 shipped it at 16:15
            sha("e"): 91800, sha("f"): 5400,  // e's was rolled back; rev6 shipped it on the 3rd at 10:30
        ])
        #expect(metrics.leadTimes.first { $0.commit == sha("c") }?.deploymentID == "ecs-svc/400")
        // Sorted: 2700 4800 5400 8100 8400 9000 91800 — nearest rank 4 and 7.
        #expect(metrics.total.leadTimeMedian == 8100)
        #expect(metrics.total.leadTimeP90 == 91800)
        #expect(metrics.total.commits == 7)
    }

    @Test func frequencyCountsCompletedChangesNotRollbacks() throws {
        let metrics = try metrics { $0.period = .day }
        // rev1, rev2, rev4, rev6; neither the circuit breaker's rollback nor rev4 deployed again by hand.
        #expect(metrics.total.deployments == 4)
        #expect(metrics.attempts.map(\.deploymentID) == ["ecs-svc/100", "ecs-svc/200", "ecs-svc/300", "ecs-svc/400", "ecs-svc/500", "ecs-svc/600"])
        let days = metrics.periods.map { ($0.label, $0.total.deployments, $0.total.failed, $0.total.attempted) }
        #expect(days.map(\.0) == ["2026-06-01", "2026-06-02", "2026-06-03"])
        #expect(days.map(\.1) == [3, 0, 1])
        #expect(days.map(\.2) == [2, 1, 1])  // rev2 (bad) and rev3; rev5; rev6
        #expect(days.map(\.3) == [4, 1, 1])
    }

    @Test func changeFailuresCountEachDeploymentOnceWithItsReason() throws {
        let metrics = try metrics()
        let reasons = Dictionary(uniqueKeysWithValues: metrics.failures.map { ($0.deploymentID, $0.reason) })
        #expect(reasons == [
            "ecs-svc/200": "marked bad: corrupts the queue",
            "ecs-svc/300": "failed: tasks kept crashing",
            "ecs-svc/500": "rolled back: ECS deployment circuit breaker: task failed to start.",
            "ecs-svc/600": "followed by a rollback (ecs-svc/manual-back)",
        ])
        #expect(metrics.total.failed == 4)
        #expect(metrics.total.attempted == 6)
        #expect(metrics.total.changeFailureRate.map { ($0 * 1000).rounded() } == 667)
    }

    @Test func timeToRestoreRunsToTheNextCompletedDeployment() throws {
        let metrics = try metrics()
        let restores = Dictionary(uniqueKeysWithValues: metrics.restores.map { ($0.failedDeployment, [$0.restoredBy: $0.seconds]) })
        #expect(restores == [
            "ecs-svc/200": ["ecs-svc/400": 10500],  // live at 13:20, replaced by rev4 at 16:15
            "ecs-svc/300": ["ecs-svc/400": 4500],  // failing from 15:00 until 16:15
            "ecs-svc/500": ["ecs-svc/500-rb": 1200],  // failing from 10:00 until the rollback finished 10:20
            "ecs-svc/600": ["ecs-svc/manual-back": 2400],  // live at 10:30 until rev4 was back at 11:10
        ])
        #expect(metrics.total.restoreMedian == 2400)  // 1200 2400 4500 10500: nearest rank 2
    }

    @Test func figuresAreWhatTheLogKnewAsOfAMoment() throws {
        // Before rev2 was marked bad: three failures of six.
        let beforeVeto = try metrics { $0.asOf = MetricsScript.at(3, 11, 30) }
        #expect(beforeVeto.total.failed == 3)
        #expect(beforeVeto.total.attempted == 6)
        // While rev5 rolled out: it counts nowhere yet, and f and e have not shipped.
        let duringRollout = try metrics { $0.asOf = MetricsScript.at(2, 10, 5) }
        #expect(duringRollout.total.attempted == 4)
        #expect(duringRollout.total.failed == 1)
        #expect(duringRollout.total.commits == 5)
        #expect(duringRollout.restores.map(\.seconds) == [4500])
        // The same question asked twice gives the same answer.
        #expect(try metrics { $0.asOf = MetricsScript.at(2, 10, 5) }.record == duringRollout.record)
    }

    @Test func anEmptyPeriodHasZeroDeploymentsAndNoRates() throws {
        let metrics = try metrics {
            $0.since = Timestamp.utc(year: 2026, month: 7, day: 1)
            $0.until = Timestamp.utc(year: 2026, month: 7, day: 31)
        }
        #expect(metrics.total == DeliveryMetrics.Figures())
        #expect(metrics.total.changeFailureRate == nil)
        // Weeks start on Monday: Jun 29, Jul 6, 13, 20, 27 — each shown, each empty.
        #expect(metrics.periods.map(\.label) == ["2026-06-29", "2026-07-06", "2026-07-13", "2026-07-20", "2026-07-27"])
        #expect(metrics.periods.allSatisfy { $0.total == DeliveryMetrics.Figures() })
        #expect(metrics.record["total"]?["changeFailureRate"] == .null)
    }

    @Test func aRangeCountsDeploymentsThatFinishedInIt() throws {
        let metrics = try metrics {
            $0.since = MetricsScript.at(2, 0)
            $0.until = MetricsScript.at(3, 23)
        }
        #expect(metrics.total.deployments == 1)  // rev6
        #expect(metrics.attempts.map(\.deploymentID) == ["ecs-svc/500", "ecs-svc/600"])
        // Lead times still follow the pushes back to rev4's commit, deployed before the range.
        #expect(Set(metrics.leadTimes.map(\.commit)) == [MetricsScript.sha("e"), MetricsScript.sha("f")])
    }

    @Test func rowsHoldEachPeriodInTotalAndPerServiceThenTheWholeRange() throws {
        let metrics = try metrics { $0.period = .month }
        let rows = metrics.rows
        #expect(rows.map { "\($0["period"]!.string!) \($0["service"]!.string!)" } == [
            "2026-06 all", "2026-06 ML-PIPE/P1", "total all", "total ML-PIPE/P1",
        ])
        #expect(rows[0]["deployments"] == 4)
        #expect(rows[0]["changeFailureRate"] == .number("0.667"))
        #expect(rows.allSatisfy { Set($0.map(\.key)) == Set(DeliveryMetrics.csvColumns) })
    }
}
