/// An event as projections see it: what happened, when, in which stream.
struct ProjectedEvent {
    let position: Int64
    let id: String
    let type: String
    let streamID: Int64
    let stream: String
    let time: Timestamp
    let data: JSONObject
    /// Computed once: folds sort by it, and ranking a type compares strings.
    let sortKey: SortKey

    init(position: Int64, id: String, type: String, streamID: Int64, stream: String, time: Timestamp, data: JSONObject) {
        (self.position, self.id, self.type, self.streamID, self.stream, self.time, self.data) =
            (position, id, type, streamID, stream, time, data)
        sortKey = SortKey(time: time.microseconds, rank: Self.rank(type), id: id)
    }

    /// Among events at the same instant, the order a fold needs: a deployment starts before its
    /// tasks report, and tasks report before it completes. Then the event id, so the order never
    /// depends on the order events arrived in.
    static func rank(_ type: String) -> Int {
        switch type {
        case "rollback.requested", "revision.marked_bad", "revision.unmarked_bad": return 5
        case "deployment.started", "build.requested", "taskdef.registered": return 10
        case "service.observed", "build.started", "taskdef.observed": return 15
        case "task.state", "image.pushed", "image.observed": return 20
        case "service.scaled", "build.job": return 25
        case "service.event", "build.completed": return 30
        case "deployment.completed", "deployment.failed", "deployment.rolled_back", "taskdef.deregistered", "image.deleted":
            return 40
        case "service.removed": return 45
        default: return 50
        }
    }
}

/// The total order projections fold events in: (event time, rank of the type, event id).
struct SortKey: Comparable, Sendable {
    let time: Int64
    let rank: Int
    let id: String

    static func < (lhs: SortKey, rhs: SortKey) -> Bool {
        if lhs.time != rhs.time { return lhs.time < rhs.time }
        if lhs.rank != rhs.rank { return lhs.rank < rhs.rank }
        return JSONWriter.utf8Less(lhs.id, rhs.id)
    }
}

extension JSONObject {
    func string(_ key: String) -> String? {
        guard case .string(let value)? = self[key], !value.isEmpty else { return nil }
        return value
    }

    func integer(_ key: String) -> Int64? { self[key]?.int }

    func flag(_ key: String) -> Bool { self[key]?.bool ?? false }

    func time(_ key: String) -> Timestamp? {
        guard case .string(let text)? = self[key] else { return nil }
        return Timestamp(iso8601: text)
    }

    func taskDefinition(_ key: String = "taskDefinition") -> TaskDefinitionID? {
        string(key).flatMap(TaskDefinitionID.init)
    }
}
