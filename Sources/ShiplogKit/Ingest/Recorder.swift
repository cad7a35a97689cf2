/// What a GitHub Actions runner tells a step through its environment (`GITHUB_*`).
public struct CIEnvironment: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String]) {
        self.values = values
    }

    /// The process environment's `GITHUB_*` variables (and `USER`).
    public static func current() -> CIEnvironment {
        var values: [String: String] = [:]
        for name in [
            "GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_REF", "GITHUB_REF_NAME", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT",
            "GITHUB_WORKFLOW", "GITHUB_EVENT_NAME", "GITHUB_ACTOR", "GITHUB_TRIGGERING_ACTOR", "GITHUB_SERVER_URL",
            "GITHUB_JOB", "USER",
        ] {
            if let value = System.environment(name), !value.isEmpty { values[name] = value }
        }
        return CIEnvironment(values)
    }

    public subscript(name: String) -> String? { values[name] }

    public var repository: String? { values["GITHUB_REPOSITORY"] }
    public var commit: String? { values["GITHUB_SHA"]?.lowercased() }
    public var runID: String? { values["GITHUB_RUN_ID"] }
    public var attempt: Int? { values["GITHUB_RUN_ATTEMPT"].flatMap { Int($0) } }
    public var actor: String? { values["GITHUB_TRIGGERING_ACTOR"] ?? values["GITHUB_ACTOR"] ?? values["USER"] }

    /// The URL of the run, as the Actions UI shows it.
    public var runURL: String? {
        guard let repository, let runID else { return nil }
        return "\(values["GITHUB_SERVER_URL"] ?? "https://github.com")/\(repository)/actions/runs/\(runID)"
    }
}

/// Builds the native events `shiplog record` appends, filling what flags leave out from the CI
/// environment. Inside a workflow run the id is derived from the run, attempt and what is
/// recorded, so a re-run step records nothing twice; elsewhere it is unique.
public struct Recorder {
    public let environment: CIEnvironment
    public let now: Timestamp

    public init(environment: CIEnvironment, now: Timestamp = System.now()) {
        self.environment = environment
        self.now = now
    }

    /// A complete event: `key` names what makes it unique within the run.
    public func event(type: String, data: JSONObject, key: String, id: String? = nil, time: Timestamp? = nil)
        throws(AdapterError) -> NewEvent
    {
        var data = data
        if data["actor"] == nil, let actor = environment.actor { data["actor"] = .string(actor) }
        // What a user types (a reason, a message, a URL) is held to the rules ingest applies, so
        // the event stored is the one a re-ingest of its document would make.
        data = Redactor.redact(data).value
        let eventID = id ?? defaultID(type: type, key: key)
        var event = NewEvent(id: eventID, type: type, time: time ?? now, data: data)
        // Recorded "now": the same step recording again is the same event, not a conflict.
        event.timeFromReceipt = time == nil
        if let problem = SchemaValidator.shared.validate(.object(data), against: type + ".json", path: "data") {
            throw AdapterError(problem)
        }
        do { _ = try event.stream() } catch { throw AdapterError(error.reason) }
        return event
    }

    func defaultID(type: String, key: String) -> String {
        if let run = environment.runID {
            return "gha:\(environment.repository ?? "-"):\(run):\(environment.attempt ?? 1):\(type):\(key)"
        }
        var generator = SystemRandomNumberGenerator()
        let random = (0..<8).map { _ in String(UInt8.random(in: 0...255, using: &generator), radix: 16).leftPadded(to: 2) }.joined()
        return "record:\(now.microseconds):\(random)"
    }

    /// The native document of an event, as `record` stores it.
    public static func document(_ event: NewEvent) -> PreparedDocument {
        PreparedDocument(source: "native", bytes: Array(JSONWriter.compact(NativeAdapter.document(for: event)).utf8), events: [event])
    }

    /// The normalized data of a task definition (`register-task-definition` output): names of
    /// environment variables, never their values.
    public static func taskDefinitionData(_ definition: JSON) throws(AdapterError) -> JSONObject {
        try ECSShapes.taskDefinition(definition).object
    }

    /// The image digest and tags from docker/build-push-action's `metadata` output (or a
    /// `buildx --metadata-file`): `containerimage.digest` and `image.name` (comma-separated).
    public static func buildMetadata(_ metadata: JSON) throws(AdapterError) -> (digest: String, images: [ImageReference]) {
        guard let digest = metadata.text("containerimage.digest"), ImageReference.isDigest(digest) else {
            throw AdapterError("the build metadata has no containerimage.digest")
        }
        let names = (metadata.text("image.name") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: " ") }
        return (digest, names.compactMap { ImageReference(String($0)) })
    }
}

extension Substring {
    func trimmingCharacters(in characters: Character) -> String {
        String(drop { $0 == characters }.reversed().drop { $0 == characters }.reversed())
    }
}
