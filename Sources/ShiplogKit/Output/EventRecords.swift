extension StoredEvent {
    /// The columns of `events --format csv`, in order.
    public static let recordColumns = [
        "position", "id", "type", "time", "stream", "streamVersion", "recordedAt", "source",
        "cluster", "service", "commit", "actor", "data", "chain",
    ]

    /// The event as JSON for `events --format json|ndjson|csv`. It is also a valid native
    /// event (it carries `"shiplog": 1`), so `shiplog events --format ndjson | shiplog ingest -`
    /// round-trips, appending nothing new.
    public var record: JSONObject {
        JSONObject([
            ("shiplog", 1),
            ("position", .number(String(position))),
            ("id", .string(id)),
            ("type", .string(type)),
            ("time", .string(time.rfc3339)),
            ("stream", .string(stream)),
            ("streamVersion", .number(String(streamVersion))),
            ("recordedAt", .string(recordedAt.rfc3339)),
            ("source", .string(source)),
            ("cluster", JSON(cluster)),
            ("service", JSON(service)),
            ("commit", JSON(commit)),
            ("actor", JSON(actor)),
            ("data", .object(data)),
            ("chain", .string(chain)),
        ])
    }

    /// A one-line human summary of the event's data, for tables.
    public var summary: String {
        var parts: [String] = []
        func add(_ key: String, _ transform: (String) -> String = { $0 }) {
            if let value = data[key]?.scalarText, !value.isEmpty { parts.append(transform(value)) }
        }
        add("taskDefinition")
        add("deploymentId")
        add("lastStatus")
        add("eventName")
        add("conclusion")
        add("status")
        if let tags = data["tags"]?.array?.compactMap(\.string), !tags.isEmpty { parts.append(":" + tags.joined(separator: ",:")) }
        add("digest", Abbreviate.digest)
        add("commit", Abbreviate.commit)
        add("desiredCount") { "desired=\($0)" }
        add("actor") { "by \($0)" }
        add("reason")
        return parts.joined(separator: " ")
    }
}
