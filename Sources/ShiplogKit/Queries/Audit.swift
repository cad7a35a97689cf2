/// One change in the audit trail: who changed what, where, when.
public struct AuditEntry: Sendable {
    public var time: Timestamp
    public var actor: String?
    public var action: String
    public var cluster: String?
    public var service: String?
    /// What was changed to: a revision, a desired count, an image, an API call.
    public var target: String?
    public var detail: String?
    public var eventID: String
    public var position: Int64
    public var source: String

    public static let columns = [
        "time", "actor", "action", "cluster", "service", "target", "detail", "eventId", "position", "source",
    ]

    public var record: JSONObject {
        [
            "time": .string(time.rfc3339), "actor": JSON(actor), "action": .string(action), "cluster": JSON(cluster),
            "service": JSON(service), "target": JSON(target), "detail": JSON(detail), "eventId": .string(eventID),
            "position": .number(String(position)), "source": .string(source),
        ]
    }
}

/// Which changes to list.
extension EventStore {
    /// The event types that are changes someone (or something) made.
    static let auditedTypes = [
        "deployment.started", "rollback.requested", "revision.marked_bad", "revision.unmarked_bad", "service.scaled",
        "service.removed", "taskdef.registered", "taskdef.deregistered", "image.pushed", "image.deleted", "api.call_failed",
    ]

    /// Who changed what, where, when, across the fleet: deployments, rollbacks, scaling,
    /// task-definition registrations and deregistrations, image pushes, vetoes, refused calls.
    public func audit(_ filter: ScopeFilter, _ body: (AuditEntry) throws -> Void) throws {
        var events = EventFilter()
        events.types = Self.auditedTypes
        events.since = filter.since
        events.until = filter.until
        events.actor = filter.actor
        events.cluster = filter.cluster
        events.service = filter.service
        try self.events(events) { event in
            try body(Self.auditEntry(event))
        }
    }

    static func auditEntry(_ event: StoredEvent) -> AuditEntry {
        let data = event.data
        var entry = AuditEntry(
            time: event.time, actor: event.actor, action: event.type, cluster: event.cluster, service: event.service,
            eventID: event.id, position: event.position, source: event.source)
        switch event.type {
        case "deployment.started":
            entry.action = data.flag("rollback") ? "rollback" : "deploy"
            entry.target = data.string("taskDefinition") ?? data.string("deploymentId")
            entry.detail = [data.string("deploymentId"), data.string("trigger"), data.string("reason")].compactMap { $0 }
                .joined(separator: "; ")
        case "rollback.requested":
            entry.action = "request rollback"
            entry.target = data.string("taskDefinition")
            entry.detail = [data.string("from").map { "from \($0)" }, data.string("reason")].compactMap { $0 }.joined(separator: "; ")
        case "revision.marked_bad", "revision.unmarked_bad":
            entry.action = event.type == "revision.marked_bad" ? "mark bad" : "unmark bad"
            entry.target = data.string("taskDefinition")
            entry.detail = data.string("reason")
        case "service.scaled":
            entry.action = "scale"
            entry.target = data.integer("desiredCount").map { "desired \($0)" }
            entry.detail = [data.integer("previousDesiredCount").map { "was \($0)" }, data.string("cause")].compactMap { $0 }
                .joined(separator: "; ")
        case "service.removed":
            entry.action = "remove service"
        case "taskdef.registered", "taskdef.deregistered":
            entry.action = event.type == "taskdef.registered" ? "register" : "deregister"
            entry.target = data.string("taskDefinition")
            entry.detail = (data["containers"]?.array ?? []).compactMap { $0["image"]?.string }.joined(separator: ", ")
        case "image.pushed", "image.deleted":
            entry.action = event.type == "image.pushed" ? "push image" : "delete image"
            let tags = (data["tags"]?.array ?? []).compactMap(\.string).map { ":" + $0 }.joined(separator: ",")
            entry.target = (data.string("repository") ?? "") + tags
            entry.detail = data.string("digest")
        case "api.call_failed":
            entry.action = "refused call"
            entry.target = data.string("api")
            entry.detail = [data.string("errorCode"), data.string("errorMessage")].compactMap { $0 }.joined(separator: ": ")
        default:
            break
        }
        if entry.detail?.isEmpty == true { entry.detail = nil }
        return entry
    }
}
