/// shiplog's own event format: one JSON object per event, `{"shiplog": 1, "id", "type", "time",
/// "data"}` (see `schema/native-event.json`). Its `data` is validated against the type's schema
/// in `schema/events/`, so a native event is exactly a normalized event.
public struct NativeAdapter: SourceAdapter {
    public let name = "native"

    public init() {}

    public func recognizes(_ document: JSON) -> Bool {
        document["shiplog"] != nil
    }

    public func read(_ document: JSON, context: AdapterContext) throws(AdapterError) -> AdapterOutcome {
        let validator = SchemaValidator.shared
        if let problem = validator.validate(document, against: "native-event.json") {
            throw AdapterError(problem)
        }
        let type = try document.requiredString("type")
        guard let data = document["data"]?.object else { throw AdapterError("data: expected an object") }
        if let problem = validator.validate(.object(data), against: type + ".json", path: "data") {
            throw AdapterError(problem)
        }
        let timeText = try document.requiredString("time")
        guard let time = Timestamp(iso8601: timeText) else { throw AdapterError("time: \"\(timeText)\" is not an RFC 3339 time") }
        let event = NewEvent(
            id: try document.requiredString("id"), type: type, time: time, data: data, stream: document["stream"]?.string)
        do {
            _ = try event.stream()
        } catch {
            throw AdapterError(error.reason)
        }
        return .events([event])
    }

    /// The native document for an event: what `record` stores and `events --format ndjson` prints.
    public static func document(for event: NewEvent) -> JSON {
        var object = JSONObject([
            ("shiplog", 1), ("id", .string(event.id)), ("type", .string(event.type)), ("time", .string(event.time.rfc3339)),
        ])
        if let stream = event.explicitStream { object["stream"] = .string(stream) }
        object["data"] = .object(event.data)
        return .object(object)
    }
}
