/// An event about to be appended: what an ingest adapter or `shiplog record` produces.
///
/// `data` holds every normalized field. The store copies the ones queries filter on
/// (`cluster`, `service`, `commit`, `actor`) into indexed columns.
public struct NewEvent: Sendable, Equatable {
    /// The deduplication key: appending an id that is already stored appends nothing.
    public var id: String
    public var type: String
    /// When it happened at the source.
    public var time: Timestamp
    public var data: JSONObject
    /// Set only when the source names its stream; otherwise derived from type and data.
    public var explicitStream: String?
    /// The time is when the event was received or recorded, not one the source gave: the same
    /// event arriving again later is a duplicate, not a conflict.
    public var timeFromReceipt = false

    public init(id: String, type: String, time: Timestamp, data: JSONObject, stream: String? = nil) {
        self.id = id
        self.type = type
        self.time = time
        self.data = data
        self.explicitStream = stream
    }

    public var cluster: String? { data["cluster"]?.string }
    public var service: String? { data["service"]?.string }
    public var commit: String? { data["commit"]?.string }
    public var actor: String? { data["actor"]?.string }

    /// The stream this event belongs to (see `EventCatalog.stream(for:)`).
    public func stream() throws(EventModelError) -> String {
        if let explicitStream { return explicitStream }
        return try EventCatalog.stream(for: self)
    }
}

public struct EventModelError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// An event as stored in the log.
public struct StoredEvent: Sendable, Equatable {
    public let position: Int64
    public let id: String
    public let type: String
    public let stream: String
    public let streamVersion: Int64
    public let time: Timestamp
    public let recordedAt: Timestamp
    public let source: String
    public let documentID: Int64
    public let data: JSONObject
    /// The hex SHA-256 chain hash up to and including this event.
    public let chain: String

    public var cluster: String? { data["cluster"]?.string }
    public var service: String? { data["service"]?.string }
    public var commit: String? { data["commit"]?.string }
    public var actor: String? { data["actor"]?.string }
}

/// The normalized event types and the stream each belongs to.
///
/// Streams group the events that fold together: a service's deployments, tasks and scaling;
/// a task-definition family's revisions; an image repository's pushes; a git repository's
/// pushes and builds. Each type has a JSON Schema in `schema/events/`.
public enum EventCatalog {
    public enum StreamRule: Sendable {
        case repository, image, taskDefinitionFamily, service, serviceOrCluster, cluster
        case autoScalingGroup, notification, environment, serviceOrAccount
    }

    public static let types: [String: StreamRule] = [
        "git.push": .repository,
        "git.ref_created": .repository,
        "change.merged": .repository,
        "build.requested": .repository,
        "build.started": .repository,
        "build.completed": .repository,
        "build.job": .repository,
        "github.deployment": .repository,
        "github.deployment_status": .repository,
        "image.pushed": .image,
        "image.deleted": .image,
        "image.observed": .image,
        "taskdef.registered": .taskDefinitionFamily,
        "taskdef.observed": .taskDefinitionFamily,
        "taskdef.deregistered": .taskDefinitionFamily,
        "deployment.started": .service,
        "deployment.completed": .service,
        "deployment.failed": .service,
        "deployment.rolled_back": .service,
        "service.observed": .service,
        "service.event": .service,
        "service.scaled": .service,
        "service.removed": .service,
        "rollback.requested": .service,
        "revision.marked_bad": .service,
        "revision.unmarked_bad": .service,
        "task.state": .serviceOrCluster,
        "container_instance.state": .cluster,
        "instance.launched": .autoScalingGroup,
        "instance.terminated": .autoScalingGroup,
        "notification.sent": .notification,
        "environment.changed": .environment,
        "incident.detected": .environment,
        "incident.resolved": .environment,
        "api.call_failed": .serviceOrAccount,
    ]

    /// `service/CLUSTER/SERVICE`, with `%` and `/` in either name written `%25` and `%2F`, so
    /// `prod/eu` + `api` and `prod` + `eu/api` are two streams. Names without those characters
    /// (every ECS name: letters, digits, `-` and `_`) keep the key they always had, so stores
    /// written before still verify and re-ingesting their events finds them as duplicates.
    public static func serviceStream(cluster: String, service: String) -> String {
        "service/" + escapeStreamComponent(cluster) + "/" + escapeStreamComponent(service)
    }

    /// (cluster, service) of a service stream key; nil for any other stream. A key from before
    /// the escaping, with more than one `/` after the cluster, reads as it always did.
    public static func serviceNames(ofStream stream: String) -> (cluster: String, service: String)? {
        let parts = stream.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "service" else { return nil }
        return (unescapeStreamComponent(parts[1]), unescapeStreamComponent(parts[2]))
    }

    static func escapeStreamComponent(_ name: String) -> String {
        guard name.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "%") }) else { return name }
        var escaped = ""
        for character in name.unicodeScalars {
            switch character {
            case "%": escaped += "%25"
            case "/": escaped += "%2F"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    static func unescapeStreamComponent(_ component: Substring) -> String {
        guard component.contains("%") else { return String(component) }
        var name = ""
        var rest = component[...]
        while let percent = rest.firstIndex(of: "%") {
            name += rest[..<percent]
            let escape = rest[percent...].prefix(3)
            if escape == "%2F" || escape == "%25" {
                name += escape == "%2F" ? "/" : "%"
                rest = rest[percent...].dropFirst(3)
            } else {
                name += "%"
                rest = rest[rest.index(after: percent)...]
            }
        }
        return name + rest
    }

    public static func stream(for event: NewEvent) throws(EventModelError) -> String {
        guard let rule = types[event.type] else { throw EventModelError("unknown event type \"\(event.type)\"") }
        func field(_ name: String) throws(EventModelError) -> String {
            guard let value = event.data[name]?.string, !value.isEmpty else {
                throw EventModelError("\(event.type) needs data.\(name) to place it in a stream")
            }
            return value
        }
        switch rule {
        case .repository: return "repo/" + (try field("repository"))
        case .image: return "image/" + (try field("repository"))
        case .taskDefinitionFamily: return "taskdef/" + (try field("family"))
        case .service: return serviceStream(cluster: try field("cluster"), service: try field("service"))
        case .serviceOrCluster:
            if let service = event.service, !service.isEmpty {
                return serviceStream(cluster: try field("cluster"), service: service)
            }
            return "cluster/" + (try field("cluster"))
        case .cluster: return "cluster/" + (try field("cluster"))
        case .autoScalingGroup: return "asg/" + (try field("autoScalingGroup"))
        case .notification:
            if let cluster = event.cluster, let service = event.service { return serviceStream(cluster: cluster, service: service) }
            return "notify/" + (try field("channel"))
        case .environment: return "environment/" + (try field("environment"))
        case .serviceOrAccount:
            if let cluster = event.cluster, let service = event.service { return serviceStream(cluster: cluster, service: service) }
            if let family = event.data["family"]?.string { return "taskdef/" + family }
            return "aws/" + (event.data["account"]?.string ?? "unknown")
        }
    }
}
