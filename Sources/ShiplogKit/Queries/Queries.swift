/// What runs in one service, now or at a moment (`shiplog where`).
public struct ServiceStatus: Sendable {
    public var cluster: String
    public var service: String
    public var taskDefinition: TaskDefinitionID?
    public var deploymentID: String?
    public var images: [ResolvedImage]
    public var commit: String?
    public var commitSource: LinkSource?
    public var deployedAt: Timestamp?
    public var deployedBy: String?
    public var status: DeploymentStatus?
    public var desiredCount: Int64?
    public var runningCount: Int64?
    public var since: Timestamp

    /// The JSON record (the keys BRIEF.md promises, then more).
    public var record: JSONObject {
        [
            "cluster": .string(cluster), "service": .string(service), "taskDefinition": JSON(taskDefinition?.description),
            "family": JSON(taskDefinition?.family), "revision": JSON(taskDefinition.map { Int64($0.revision) }),
            "images": .array(images.map { .object($0.record) }), "commit": JSON(commit),
            "deployedAt": JSON(deployedAt?.rfc3339), "deployedBy": JSON(deployedBy), "status": JSON(status?.rawValue),
            "desiredCount": JSON(desiredCount), "runningCount": JSON(runningCount),
            "deploymentId": JSON(deploymentID), "commitSource": JSON(commitSource?.rawValue), "since": .string(since.rfc3339),
        ]
    }

    public static let csvColumns = [
        "cluster", "service", "taskDefinition", "family", "revision", "images", "commit", "deployedAt", "deployedBy", "status",
        "desiredCount", "runningCount", "deploymentId", "commitSource", "since",
    ]

    /// The record with images flattened for a CSV cell: `container=image@digest;…`.
    public var flatRecord: JSONObject {
        var flat = record
        flat["images"] = .string(images.map { "\($0.container)=\($0.image ?? "")@\($0.digest ?? "?")" }.joined(separator: ";"))
        return flat
    }
}

/// One deployment of a service (`shiplog history`).
public struct DeploymentSummary: Sendable {
    public var key: String
    public var deploymentID: String?
    public var cluster: String
    public var service: String
    public var taskDefinition: TaskDefinitionID?
    public var taskDefinitionInferred: Bool
    public var commit: String?
    public var commitSource: LinkSource?
    public var images: [ResolvedImage]
    public var startedAt: Timestamp?
    public var finishedAt: Timestamp?
    public var status: DeploymentStatus
    public var actor: String?
    public var reason: String?
    public var trigger: String?
    public var rollbackTo: String?
    public var rolledBackBy: String?
    public var rollbackRequest: String?
    /// While it was what the service showed: from, until (nil: still).
    public var liveFrom: Timestamp?
    public var liveUntil: Timestamp?

    public var record: JSONObject {
        [
            "deploymentId": JSON(deploymentID ?? key), "cluster": .string(cluster), "service": .string(service),
            "taskDefinition": JSON(taskDefinition?.description), "revision": JSON(taskDefinition.map { Int64($0.revision) }),
            "commit": JSON(commit), "startedAt": JSON(startedAt?.rfc3339), "finishedAt": JSON(finishedAt?.rfc3339),
            "status": .string(status.rawValue), "actor": JSON(actor),
            "digests": .array(images.compactMap { $0.digest.map(JSON.string) }),
            "images": .array(images.map { .object($0.record) }), "commitSource": JSON(commitSource?.rawValue),
            "reason": JSON(reason), "trigger": JSON(trigger), "rollbackTo": JSON(rollbackTo), "rolledBackBy": JSON(rolledBackBy),
            "rollbackRequest": JSON(rollbackRequest), "taskDefinitionInferred": .bool(taskDefinitionInferred),
            "liveFrom": JSON(liveFrom?.rfc3339), "liveUntil": JSON(liveUntil?.rfc3339),
        ]
    }

    public static let csvColumns = [
        "deploymentId", "cluster", "service", "taskDefinition", "revision", "commit", "startedAt", "finishedAt", "status", "actor",
        "digests", "commitSource", "reason", "trigger", "rollbackTo", "rolledBackBy", "rollbackRequest", "liveFrom", "liveUntil",
    ]
}

/// Filters for `history`.
public struct HistoryFilter: Sendable {
    public var since: Timestamp?
    public var until: Timestamp?
    public var statuses: [DeploymentStatus] = []
    public var actor: String?
    public var limit: Int?

    public init() {}
}

public enum QueryError: Error, CustomStringConvertible, Sendable {
    case unknownService(String, known: [String])
    case ambiguousService(String, clusters: [String])
    case notFound(String)
    case invalidReference(String)

    public var description: String {
        switch self {
        case .unknownService(let service, let known):
            return "no service \(service) in the log" + (known.isEmpty ? "" : " (known: \(known.joined(separator: ", ")))")
        case .ambiguousService(let service, let clusters):
            return "service \(service) exists in several clusters (\(clusters.joined(separator: ", "))): pass --cluster"
        case .notFound(let what): return what
        case .invalidReference(let what): return what
        }
    }
}

extension EventStore {
    /// Brings the projections up to the log's head if they are behind (a store from before they
    /// existed); a no-op otherwise.
    public func ensureProjections() throws {
        try wrap {
            let head = try database.scalarInt("SELECT max(position) FROM events") ?? 0
            let folded = try database.scalarInt("SELECT position FROM projection_checkpoint WHERE name = 'projections'") ?? 0
            guard folded < head else { return }
            try refuseIfReadOnly()
            try withWriteCache { try database.transaction(immediate: true) { try Projector(database: database).catchUp() } }
        }
    }

    /// Deletes every projection and folds the whole log again, in one transaction.
    public func rebuildProjections() throws {
        try refuseIfReadOnly()
        try wrap { try withWriteCache { try database.transaction(immediate: true) { try Projector(database: database).rebuild() } } }
    }

    /// The services the log knows, as (cluster, service), sorted.
    public func services(cluster: String? = nil, service: String? = nil) throws -> [(cluster: String, service: String)] {
        try wrap {
            let statement = try database.prepare("SELECT name FROM streams WHERE substr(name, 1, 8) = 'service/' ORDER BY name")
            var services: [(String, String)] = []
            while try statement.step() {
                guard let names = ServiceProjection.names(ofStream: statement.text(0)) else { continue }
                if let cluster, names.cluster != cluster { continue }
                if let service, names.service != service { continue }
                services.append((names.cluster, names.service))
            }
            return services
        }
    }

    /// The cluster of a service named without one: the only cluster that has it.
    public func cluster(ofService service: String, given cluster: String?) throws -> String {
        let matches = try services(cluster: cluster, service: service)
        if matches.count == 1 { return matches[0].cluster }
        if matches.isEmpty {
            let known = try services(cluster: cluster).map { "\($0.cluster)/\($0.service)" }
            throw QueryError.unknownService(cluster.map { "\($0)/\(service)" } ?? service, known: Array(known.prefix(20)))
        }
        throw QueryError.ambiguousService(service, clusters: matches.map(\.cluster))
    }

    /// What runs where: each service's current deployment, or the one it showed at `asOf`.
    public func whereRunning(cluster: String? = nil, service: String? = nil, asOf: Timestamp? = nil) throws -> [ServiceStatus] {
        try read {
            let resolver = try LineageResolver(database: database)
            let state = try database.prepare(
                """
                SELECT valid_from, deployment_key, family, revision, status, deployed_at, deployed_by, desired_count,
                       running_count, images, removed
                FROM service_states WHERE cluster = ? AND service = ? AND valid_from <= ?
                ORDER BY valid_from DESC LIMIT 1
                """)
            let deployment = try database.prepare(
                "SELECT deployment_id, rollback_to, commit_sha FROM deployments WHERE cluster = ? AND service = ? AND key = ?")
            let moment = asOf?.microseconds ?? Int64.max
            var rows: [ServiceStatus] = []
            for (clusterName, serviceName) in try services(cluster: cluster, service: service) {
                state.reset()
                state.bind(1, clusterName)
                state.bind(2, serviceName)
                state.bind(3, moment)
                guard try state.step(), state.int(10) == 0 else { continue }
                var status = ServiceStatus(
                    cluster: clusterName, service: serviceName, images: [], since: Timestamp(microseconds: state.int(0)))
                if let family = state.optionalText(2), let revision = state.optionalInt(3) {
                    status.taskDefinition = TaskDefinitionID(family: family, revision: Int(revision))
                }
                status.status = state.optionalText(4).flatMap(DeploymentStatus.init)
                status.deployedAt = state.optionalInt(5).map { Timestamp(microseconds: $0) }
                status.deployedBy = state.optionalText(6)
                status.desiredCount = state.optionalInt(7)
                status.runningCount = state.optionalInt(8)
                let reported = LineageResolver.digests(fromImagesColumn: state.text(9))
                let key = state.optionalText(1)
                var stated: String?
                var inherited: [String: String] = [:]
                if let key {
                    deployment.reset()
                    deployment.bind(1, clusterName)
                    deployment.bind(2, serviceName)
                    deployment.bind(3, key)
                    if try deployment.step() {
                        status.deploymentID = deployment.optionalText(0)
                        stated = deployment.optionalText(2)
                        if let target = deployment.optionalText(1) {
                            inherited = try resolver.reportedImages(cluster: clusterName, service: serviceName, deployment: target)
                        }
                    }
                    deployment.reset()
                }
                status.images = try resolver.images(
                    of: status.taskDefinition, reported: reported, inherited: inherited, startedAt: status.deployedAt?.microseconds,
                    asOf: moment)
                (status.commit, status.commitSource) = Self.commit(stated: stated, images: status.images)
                rows.append(status)
            }
            return rows
        }
    }

    /// A deployment's commit: the one an event stated, else the one its images came from.
    static func commit(stated: String?, images: [ResolvedImage]) -> (String?, LinkSource?) {
        if let stated { return (stated, .stated) }
        guard let first = images.first(where: { $0.commit != nil }) else { return (nil, nil) }
        // The weakest link on the way decides how the commit is known.
        let source: LinkSource? = first.digestSource?.isInferred == true ? first.digestSource : first.commitSource
        return (first.commit, source)
    }

    /// A service's deployments, newest first.
    public func history(cluster: String, service: String, filter: HistoryFilter = HistoryFilter()) throws -> [DeploymentSummary] {
        try read {
            var sql = """
                SELECT key, deployment_id, family, revision, taskdef_inferred, started_at, finished_at, status, actor, reason,
                       trigger, rollback_to, rolled_back_by, rollback_request, commit_sha, images
                FROM deployments WHERE cluster = ?1 AND service = ?2
                """
            if filter.since != nil { sql += " AND coalesce(started_at, finished_at) >= ?3" }
            if filter.until != nil { sql += " AND coalesce(started_at, finished_at) <= ?4" }
            if filter.actor != nil { sql += " AND actor = ?5" }
            if !filter.statuses.isEmpty {
                sql += " AND status IN (" + filter.statuses.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"
            }
            sql += " ORDER BY coalesce(started_at, finished_at) DESC, key DESC"
            if let limit = filter.limit { sql += " LIMIT \(max(0, limit))" }
            let statement = try database.prepare(sql)
            statement.bind(1, cluster)
            statement.bind(2, service)
            if let since = filter.since { statement.bind(3, since.microseconds) }
            if let until = filter.until { statement.bind(4, until.microseconds) }
            if let actor = filter.actor { statement.bind(5, actor) }
            let resolver = try LineageResolver(database: database)
            let live = try LiveWindows(database: database)
            var summaries: [DeploymentSummary] = []
            while try statement.step() {
                summaries.append(try Self.summary(statement, cluster: cluster, service: service, resolver: resolver, live: live))
            }
            return summaries
        }
    }

    /// Decodes a deployments row (the columns `history` selects).
    /// `live: nil` skips when the deployment was live (two lookups each; metrics do not need it).
    static func summary(_ row: Statement, cluster: String, service: String, resolver: LineageResolver, live: LiveWindows?)
        throws -> DeploymentSummary
    {
        var revision: TaskDefinitionID?
        if let family = row.optionalText(2), let number = row.optionalInt(3) {
            revision = TaskDefinitionID(family: family, revision: Int(number))
        }
        let reported = LineageResolver.digests(fromImagesColumn: row.text(15))
        let started = row.optionalInt(5)
        let inherited = try row.optionalText(11).map {
            try resolver.reportedImages(cluster: cluster, service: service, deployment: $0)
        } ?? [:]
        let images = try resolver.images(of: revision, reported: reported, inherited: inherited, startedAt: started, asOf: Int64.max)
        let (commit, source) = Self.commit(stated: row.optionalText(14), images: images)
        let key = row.text(0)
        let window = try live?.window(cluster: cluster, service: service, key: key) ?? (from: nil, until: nil)
        return DeploymentSummary(
            key: key, deploymentID: row.optionalText(1), cluster: cluster, service: service, taskDefinition: revision,
            taskDefinitionInferred: row.int(4) != 0, commit: commit, commitSource: source, images: images,
            startedAt: started.map { Timestamp(microseconds: $0) }, finishedAt: row.optionalInt(6).map { Timestamp(microseconds: $0) },
            status: DeploymentStatus(rawValue: row.text(7)) ?? .inProgress, actor: row.optionalText(8), reason: row.optionalText(9),
            trigger: row.optionalText(10), rollbackTo: row.optionalText(11), rolledBackBy: row.optionalText(12),
            rollbackRequest: row.optionalText(13), liveFrom: window.from, liveUntil: window.until)
    }
}

/// When a deployment was what its service showed, from the service's views over time.
final class LiveWindows {
    private let first: Statement
    private let next: Statement

    init(database: Database) throws {
        first = try database.prepare(
            """
            SELECT min(valid_from) FROM service_states WHERE cluster = ? AND service = ? AND deployment_key = ?
            """)
        next = try database.prepare(
            """
            SELECT min(valid_from) FROM service_states
            WHERE cluster = ?1 AND service = ?2 AND valid_from > ?3 AND (deployment_key IS NOT ?4 OR removed = 1)
            """)
    }

    func window(cluster: String, service: String, key: String) throws -> (from: Timestamp?, until: Timestamp?) {
        first.reset()
        first.bind(1, cluster)
        first.bind(2, service)
        first.bind(3, key)
        guard try first.step(), let from = first.optionalInt(0) else {
            first.reset()
            return (nil, nil)
        }
        first.reset()
        next.reset()
        next.bind(1, cluster)
        next.bind(2, service)
        next.bind(3, from)
        next.bind(4, key)
        defer { next.reset() }
        let until = try next.step() ? next.optionalInt(0) : nil
        return (Timestamp(microseconds: from), until.map { Timestamp(microseconds: $0) })
    }
}
