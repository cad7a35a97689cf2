/// The period a metric is broken down by.
public enum MetricsPeriod: String, CaseIterable, Sendable {
    case day, week, month

    /// The start of the period holding `time` (UTC; weeks start on Monday).
    func start(of time: Timestamp) -> Timestamp {
        let parts = time.utcParts
        switch self {
        case .day: return Timestamp.utc(year: parts.year, month: parts.month, day: parts.day)
        case .week:
            let midnight = Timestamp.utc(year: parts.year, month: parts.month, day: parts.day)
            let days = midnight.microseconds / 86_400_000_000
            let weekday = ((days % 7) + 7 + 3) % 7  // 1970-01-01 was a Thursday: Monday = 0
            return Timestamp(microseconds: midnight.microseconds - weekday * 86_400_000_000)
        case .month: return Timestamp.utc(year: parts.year, month: parts.month, day: 1)
        }
    }

    /// The start of the period after the one starting at `start`.
    func next(after start: Timestamp) -> Timestamp {
        switch self {
        case .day: return Timestamp(microseconds: start.microseconds + 86_400_000_000)
        case .week: return Timestamp(microseconds: start.microseconds + 7 * 86_400_000_000)
        case .month:
            let parts = start.utcParts
            return parts.month == 12
                ? Timestamp.utc(year: parts.year + 1, month: 1, day: 1) : Timestamp.utc(year: parts.year, month: parts.month + 1, day: 1)
        }
    }

    func label(_ start: Timestamp) -> String {
        let text = start.rfc3339
        switch self {
        case .day, .week: return String(text.prefix(10))
        case .month: return String(text.prefix(7))
        }
    }
}

/// The four DORA metrics over a stretch of time, as the log knew them at a moment: the samples
/// they come from, and the figures for the whole range, each service, and each period.
public struct DeliveryMetrics: Sendable {
    /// A deployment that counts: a COMPLETED one adds to the frequency, any finished one to the
    /// denominator of the change failure rate.
    public struct Attempt: Sendable {
        public var service: String
        public var deploymentID: String
        public var taskDefinition: String?
        public var at: Timestamp
        public var completed: Bool
        public var failed: Bool
    }

    public struct LeadTime: Sendable {
        public var service: String
        public var commit: String
        public var committedAt: Timestamp
        public var deployedAt: Timestamp
        public var deploymentID: String
        public var seconds: Int64 { (deployedAt.microseconds - committedAt.microseconds) / 1_000_000 }
    }

    public struct Failure: Sendable {
        public var service: String
        public var deploymentID: String
        public var taskDefinition: String?
        public var reason: String
        /// When the deployment it blames finished (or started, if it never did): the period it counts in.
        public var deployedAt: Timestamp
        public var at: Timestamp
    }

    public struct Restore: Sendable {
        public var service: String
        public var failedDeployment: String
        public var restoredBy: String
        public var from: Timestamp
        public var to: Timestamp
        public var seconds: Int64 { (to.microseconds - from.microseconds) / 1_000_000 }
    }

    /// The four figures over one set of samples.
    public struct Figures: Sendable, Equatable {
        public var deployments = 0
        public var commits = 0
        public var leadTimeMedian: Int64?
        public var leadTimeP90: Int64?
        public var failed = 0
        public var attempted = 0
        public var restores = 0
        public var restoreMedian: Int64?

        /// No deployments, no samples: what an empty period shows.
        public init() {}

        init(deployments: Int, commits: Int, leadTimeMedian: Int64?, leadTimeP90: Int64?, failed: Int, attempted: Int,
             restores: Int, restoreMedian: Int64?) {
            self.deployments = deployments
            self.commits = commits
            self.leadTimeMedian = leadTimeMedian
            self.leadTimeP90 = leadTimeP90
            self.failed = failed
            self.attempted = attempted
            self.restores = restores
            self.restoreMedian = restoreMedian
        }

        public var changeFailureRate: Double? { attempted == 0 ? nil : Double(failed) / Double(attempted) }

        public static let csvColumns = [
            "deployments", "commits", "leadTimeMedianSeconds", "leadTimeP90Seconds", "changeFailures", "deploymentsAttempted",
            "changeFailureRate", "restores", "timeToRestoreMedianSeconds",
        ]

        public var record: JSONObject {
            func number(_ value: Int64?) -> JSON { value.map { .number(String($0)) } ?? .null }
            return [
                "deployments": number(Int64(deployments)), "commits": number(Int64(commits)),
                "leadTimeMedianSeconds": number(leadTimeMedian), "leadTimeP90Seconds": number(leadTimeP90),
                "changeFailures": number(Int64(failed)), "deploymentsAttempted": number(Int64(attempted)),
                "changeFailureRate": changeFailureRate.map { .number(String(format3: $0)) } ?? .null,
                "restores": number(Int64(restores)), "timeToRestoreMedianSeconds": number(restoreMedian),
            ]
        }
    }

    /// One period's figures, in total and per service.
    public struct Period: Sendable {
        public var label: String
        public var start: Timestamp
        public var total: Figures
        public var perService: [String: Figures]
    }

    public var asOf: Timestamp
    public var since: Timestamp?
    public var until: Timestamp?
    public var period: MetricsPeriod
    public var services: [String]
    public var attempts: [Attempt] = []
    public var leadTimes: [LeadTime] = []
    public var failures: [Failure] = []
    public var restores: [Restore] = []

    public var total: Figures { Self.figures(attempts, leadTimes, failures, restores) }

    public func figures(service: String) -> Figures {
        Self.figures(
            attempts.filter { $0.service == service }, leadTimes.filter { $0.service == service },
            failures.filter { $0.service == service }, restores.filter { $0.service == service })
    }

    /// Every period from the first to the last (or from --since to --until), empty ones included:
    /// a week without a deployment is a figure too.
    public var periods: [Period] {
        let times = attempts.map(\.at) + leadTimes.map(\.deployedAt)
        guard let first = since ?? times.min(), let last = until ?? times.max(), first <= last else { return [] }
        var result: [Period] = []
        var start = period.start(of: first)
        while start <= last, result.count < 10_000 {
            let end = period.next(after: start)
            func within(_ time: Timestamp) -> Bool { time >= start && time < end }
            let attempts = self.attempts.filter { within($0.at) }
            let leadTimes = self.leadTimes.filter { within($0.deployedAt) }
            let failures = self.failures.filter { within($0.deployedAt) }
            let failedIDs = Set(failures.map { "\($0.service)\u{0}\($0.deploymentID)" })
            let restores = self.restores.filter { failedIDs.contains("\($0.service)\u{0}\($0.failedDeployment)") }
            var perService: [String: Figures] = [:]
            for service in services {
                perService[service] = Self.figures(
                    attempts.filter { $0.service == service }, leadTimes.filter { $0.service == service },
                    failures.filter { $0.service == service }, restores.filter { $0.service == service })
            }
            result.append(Period(
                label: period.label(start), start: start, total: Self.figures(attempts, leadTimes, failures, restores),
                perService: perService))
            start = end
        }
        return result
    }

    static func figures(_ attempts: [Attempt], _ leadTimes: [LeadTime], _ failures: [Failure], _ restores: [Restore]) -> Figures {
        let leadSeconds = leadTimes.map(\.seconds)
        return Figures(
            deployments: attempts.filter(\.completed).count, commits: leadTimes.count,
            leadTimeMedian: percentile(leadSeconds, 0.5), leadTimeP90: percentile(leadSeconds, 0.9),
            failed: failures.count, attempted: attempts.count, restores: restores.count,
            restoreMedian: percentile(restores.map(\.seconds), 0.5))
    }

    /// The nearest-rank percentile (no interpolation: every figure is a real sample).
    static func percentile(_ values: [Int64], _ fraction: Double) -> Int64? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[max(0, min(sorted.count - 1, rank - 1))]
    }

    /// The rows of `--format csv|ndjson`: each period in total and per service, then the whole range.
    public var rows: [JSONObject] {
        func row(_ label: String, _ service: String, _ figures: Figures) -> JSONObject {
            var record: JSONObject = ["period": .string(label), "service": .string(service)]
            record.members += figures.record.members
            return record
        }
        var rows: [JSONObject] = []
        for period in periods {
            rows.append(row(period.label, "all", period.total))
            for service in services { rows.append(row(period.label, service, period.perService[service] ?? Figures())) }
        }
        rows.append(row("total", "all", total))
        for service in services { rows.append(row("total", service, figures(service: service))) }
        return rows
    }

    public static let csvColumns = ["period", "service"] + Figures.csvColumns

    public var record: JSONObject {
        [
            "asOf": .string(asOf.rfc3339), "since": JSON(since?.rfc3339), "until": JSON(until?.rfc3339), "by": .string(period.rawValue),
            "services": JSON(services), "total": .object(total.record),
            "perService": .object(JSONObject(services.map { ($0, .object(figures(service: $0).record)) })),
            "periods": .array(periods.map {
                [
                    "period": .string($0.label), "start": .string($0.start.rfc3339), "total": .object($0.total.record),
                    "perService": .object(JSONObject($0.perService.sorted { $0.key < $1.key }.map { ($0.key, .object($0.value.record)) })),
                ]
            }),
            "deployments": .array(attempts.map {
                [
                    "service": .string($0.service), "deploymentId": .string($0.deploymentID), "taskDefinition": JSON($0.taskDefinition),
                    "at": .string($0.at.rfc3339), "completed": .bool($0.completed), "changeFailure": .bool($0.failed),
                ]
            }),
            "leadTimes": .array(leadTimes.map {
                [
                    "service": .string($0.service), "commit": .string($0.commit), "committedAt": .string($0.committedAt.rfc3339),
                    "deployedAt": .string($0.deployedAt.rfc3339), "deploymentId": .string($0.deploymentID),
                    "seconds": .number(String($0.seconds)),
                ]
            }),
            "failures": .array(failures.map {
                [
                    "service": .string($0.service), "deploymentId": .string($0.deploymentID), "taskDefinition": JSON($0.taskDefinition),
                    "reason": .string($0.reason), "deployedAt": .string($0.deployedAt.rfc3339), "at": .string($0.at.rfc3339),
                ]
            }),
            "restores": .array(restores.map {
                [
                    "service": .string($0.service), "failedDeployment": .string($0.failedDeployment), "restoredBy": .string($0.restoredBy),
                    "from": .string($0.from.rfc3339), "to": .string($0.to.rfc3339), "seconds": .number(String($0.seconds)),
                ]
            }),
        ]
    }
}

extension String {
    /// A number with three decimals, without Foundation's formatter.
    public init(format3 value: Double) {
        let scaled = Int64((value * 1000).rounded())
        let fraction = String(abs(scaled) % 1000)
        self = "\(scaled < 0 ? "-" : "")\(abs(scaled) / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}

/// What to measure.
public struct MetricsRequest: Sendable {
    public var cluster: String?
    public var service: String?
    public var since: Timestamp?
    public var until: Timestamp?
    public var period: MetricsPeriod = .week
    /// Answer as the log knew it then: only what happened at or before this moment counts.
    public var asOf: Timestamp?

    public init() {}
}

extension EventStore {
    /// The DORA metrics (definitions in README):
    /// - deployment frequency: COMPLETED deployments finished in the period; rollbacks (the
    ///   circuit breaker's, recorded ones, or an older revision of the family deployed by hand)
    ///   restore a service and are not changes, so they count nowhere but in time to restore;
    /// - lead time for changes: for every commit that reached a COMPLETED deployment — all commits
    ///   since the service's previous deployed commit, not only the head — from the commit's time
    ///   to that deployment's finish (median and p90);
    /// - change failure rate: deployments that FAILED, were ROLLED_BACK, were followed by a rollback,
    ///   or were marked bad, each counted once, over all finished deployments;
    /// - time to restore: from a failed or bad deployment to the next COMPLETED deployment of that
    ///   service.
    public func metrics(_ request: MetricsRequest) throws -> DeliveryMetrics {
        try read {
            let asOf = request.asOf ?? System.now()
            let moment = asOf.microseconds
            let tracer = try Tracer(database: database)
            let services = try self.services(cluster: request.cluster, service: request.service)
            var metrics = DeliveryMetrics(
                asOf: asOf, since: request.since, until: request.until, period: request.period,
                services: services.map { "\($0.cluster)/\($0.service)" })
            func inRange(_ time: Int64) -> Bool {
                (request.since.map { time >= $0.microseconds } ?? true) && (request.until.map { time <= $0.microseconds } ?? true)
            }
            for (cluster, service) in services {
                let name = "\(cluster)/\(service)"
                let deployments = try MetricsDeployment.load(database, cluster: cluster, service: service, asOf: moment, tracer: tracer)
                let vetoes = try vetoTimes(cluster: cluster, service: service, asOf: moment)
                var previousCommit: String?
                var lastCompleted: MetricsDeployment?
                var counted = Set<String>()
                for (index, deployment) in deployments.enumerated() {
                    let completed = deployment.status == .completed
                    let rollback = deployment.undoes(lastCompleted)
                    defer { if completed && !rollback { lastCompleted = deployment } }
                    // Rollbacks restore; they are not changes.
                    guard !rollback, let started = deployment.startedAt, deployment.status != .inProgress else { continue }
                    let deployedAt = deployment.finishedAt ?? started
                    // Lead time: every commit this deployment brought since the previous deployed commit.
                    if completed, let commit = deployment.commit {
                        if inRange(deployedAt) {
                            for change in try commitsBrought(tracer, from: previousCommit, to: commit, asOf: moment)
                            where counted.insert(change.sha).inserted {
                                guard let committed = change.time ?? change.pushedAt else { continue }
                                metrics.leadTimes.append(DeliveryMetrics.LeadTime(
                                    service: name, commit: change.sha, committedAt: committed,
                                    deployedAt: Timestamp(microseconds: deployedAt), deploymentID: deployment.id))
                            }
                        }
                        previousCommit = commit
                    }
                    guard inRange(deployedAt) else { continue }
                    // Change failures: each deployment once, with the first reason that applies.
                    let later = deployments[(index + 1)...]
                    var failure: (reason: String, at: Int64)?
                    switch deployment.status {
                    case .failed: failure = ("failed" + (deployment.reason.map { ": \($0)" } ?? ""), deployedAt)
                    case .rolledBack: failure = ("rolled back" + (deployment.reason.map { ": \($0)" } ?? ""), deployedAt)
                    default:
                        if let veto = deployment.taskDefinition.flatMap({ vetoes[$0.description] }) {
                            failure = ("marked bad: \(veto.reason)", max(veto.time, deployedAt))
                        } else if completed, let next = later.first(where: { $0.status != .inProgress || $0.rollback }),
                            next.undoes(deployment)
                        {
                            failure = ("followed by a rollback (\(next.id))", next.startedAt ?? deployedAt)
                        }
                    }
                    metrics.attempts.append(DeliveryMetrics.Attempt(
                        service: name, deploymentID: deployment.id, taskDefinition: deployment.taskDefinition?.description,
                        at: Timestamp(microseconds: deployedAt), completed: completed, failed: failure != nil))
                    guard let failure else { continue }
                    metrics.failures.append(DeliveryMetrics.Failure(
                        service: name, deploymentID: deployment.id, taskDefinition: deployment.taskDefinition?.description,
                        reason: failure.reason, deployedAt: Timestamp(microseconds: deployedAt), at: Timestamp(microseconds: failure.at)))
                    // Time to restore: from when the change failed in production (a failed rollout from its
                    // start, a bad one from when it went live) to the service's next COMPLETED deployment.
                    if let restored = later.first(where: { $0.status == .completed }), let to = restored.finishedAt {
                        metrics.restores.append(DeliveryMetrics.Restore(
                            service: name, failedDeployment: deployment.id, restoredBy: restored.id,
                            from: Timestamp(microseconds: completed ? deployedAt : started), to: Timestamp(microseconds: to)))
                    }
                }
            }
            return metrics
        }
    }

    /// The commits a deployment of `to` brought after `from` (oldest first), by the pushes in the
    /// log; just `to` when the pushes do not connect them.
    private func commitsBrought(_ tracer: Tracer, from: String?, to: String, asOf moment: Int64) throws -> [CommitInfo] {
        let head = try tracer.commits("WHERE sha = ?1", to).filter { ($0.pushedAt?.microseconds ?? 0) <= moment }
        guard let commit = head.first else { return [] }
        guard let from, from != to else { return from == to ? [] : [commit] }
        let between = try tracer.commitsBetween(from: from, to: to)
        return between ?? [commit]
    }

    /// Vetoes as of a moment: revision → (reason, when).
    private func vetoTimes(cluster: String, service: String, asOf moment: Int64) throws -> [String: (reason: String, time: Int64)] {
        let statement = try database.prepare(
            "SELECT family, revision, reason, time FROM bad_revisions WHERE cluster = ? AND service = ? AND time <= ?")
        statement.bind(1, cluster)
        statement.bind(2, service)
        statement.bind(3, moment)
        var vetoes: [String: (String, Int64)] = [:]
        while try statement.step() {
            vetoes["\(statement.text(0)):\(statement.int(1))"] = (statement.optionalText(2) ?? "no reason given", statement.int(3))
        }
        return vetoes
    }
}

/// A deployment as the metrics see it at a moment: its status then, its commit.
struct MetricsDeployment {
    var id: String
    var taskDefinition: TaskDefinitionID?
    var startedAt: Int64?
    var finishedAt: Int64?
    var status: DeploymentStatus
    var reason: String?
    var rollback: Bool
    var rollbackRequest: String?
    var commit: String?

    /// Whether this deployment rolled `earlier` back: ECS's circuit breaker, a recorded rollback
    /// request, or a deployment of an older revision of the same family by hand.
    func undoes(_ earlier: MetricsDeployment?) -> Bool {
        if rollback || rollbackRequest != nil { return true }
        guard let mine = taskDefinition, let theirs = earlier?.taskDefinition else { return false }
        return mine.family == theirs.family && mine.revision < theirs.revision
    }

    /// The service's deployments started at or before `moment`, oldest first, each with its status
    /// as of then (its status history says when each outcome became known).
    static func load(_ database: Database, cluster: String, service: String, asOf moment: Int64, tracer: Tracer) throws
        -> [MetricsDeployment]
    {
        let statement = try database.prepare(
            """
            SELECT key, deployment_id, family, revision, taskdef_inferred, started_at, finished_at, status, actor, reason,
                   trigger, rollback_to, rolled_back_by, rollback_request, commit_sha, images, status_history, rollback
            FROM deployments WHERE cluster = ? AND service = ? AND coalesce(started_at, finished_at) <= ?
            ORDER BY coalesce(started_at, finished_at), key
            """)
        statement.bind(1, cluster)
        statement.bind(2, service)
        statement.bind(3, moment)
        var deployments: [MetricsDeployment] = []
        while try statement.step() {
            let summary = try EventStore.summary(statement, cluster: cluster, service: service, resolver: tracer.resolver, live: nil)
            var status = DeploymentStatus.inProgress
            var finished: Int64?
            for pair in (try? JSONParser.parse(statement.text(16)).array) ?? [] {
                guard let time = pair[0]?.int, time <= moment, let value = pair[1]?.string.flatMap(DeploymentStatus.init) else { continue }
                status = value
                if value != .inProgress { finished = time }
            }
            if status == .completed || status == .failed { finished = summary.finishedAt.map { min($0.microseconds, finished ?? Int64.max) } ?? finished }
            deployments.append(MetricsDeployment(
                id: summary.deploymentID ?? summary.key, taskDefinition: summary.taskDefinition,
                startedAt: summary.startedAt?.microseconds, finishedAt: status == .inProgress ? nil : finished, status: status,
                reason: summary.reason, rollback: statement.int(17) != 0 || summary.rollbackRequest != nil,
                rollbackRequest: summary.rollbackRequest,
                commit: summary.commit))
        }
        return deployments
    }
}
